/** Decorative SVG icons (hidden from assistive technology; the buttons carry the names). */
const paths = {
  close: 'M18.3 5.7 12 12l6.3 6.3-1.4 1.4-6.3-6.3-6.3 6.3-1.4-1.4L9.2 12 2.9 5.7l1.4-1.4 6.3 6.3 6.3-6.3z',
  plus: 'M11 5h2v6h6v2h-6v6h-2v-6H5v-2h6z',
  list: 'M4 6h16v2H4zm0 5h16v2H4zm0 5h16v2H4z',
  back: 'M20 11H7.8l5.6-5.6L12 4l-8 8 8 8 1.4-1.4L7.8 13H20z',
  attach:
    'M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z',
  send: 'M3.4 20.4 21 12 3.4 3.6 3.4 10.1 15 12 3.4 13.9z',
  stop: 'M7 7h10v10H7z',
};

/** One icon by name. */
export function Icon({ name }: { name: keyof typeof paths }) {
  return (
    <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false" class="cc-icon">
      <path d={paths[name]} />
    </svg>
  );
}
