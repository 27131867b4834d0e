import type { DemoUser } from './demo-user.ts';

/** What the help centre page needs to know: who is signed in and where Concierge lives. */
export interface HelpCentrePageOptions {
  user: DemoUser;
  /** The Concierge API's public URL; the widget script and all chat requests go there. */
  conciergeUrl: string;
}

interface Article {
  id: string;
  category: string;
  question: string;
  answer: string;
}

const ARTICLES: Article[] = [
  {
    id: 'track-order',
    category: 'Orders & shipping',
    question: 'Where is my order?',
    answer:
      'Orders leave our warehouse in Leeds within one working day. As soon as your parcel is on its way we email you a tracking link; you can also find it under <a href="#account">Your orders</a>. Standard delivery takes 2–4 working days, express delivery arrives the next working day when you order before 2 pm.',
  },
  {
    id: 'returns',
    category: 'Returns & exchanges',
    question: 'How do I return or exchange an item?',
    answer:
      'You have 60 days to return unworn gear with its tags. Start a return from <a href="#account">Your orders</a>, print the prepaid label and drop the parcel at any post office. Refunds reach your card within 5 working days of the parcel arriving with us. Exchanges for another size ship the day your return is scanned.',
  },
  {
    id: 'sizing',
    category: 'Sizing & fit',
    question: 'Which size should I choose for the Fjell down jacket?',
    answer:
      'The Fjell is cut for layering: if you plan to wear it over a fleece, take your usual size; over a T-shirt only, consider one size down. Each product page has a measured size chart (chest, back length and sleeve in centimetres).',
  },
  {
    id: 'repairs',
    category: 'Gear care & repairs',
    question: 'Do you repair damaged gear?',
    answer:
      'Yes. Our workshop fixes zips, seams, buckles and small tears on anything we sell, free of charge in the first two years and at cost after that. Gold members get free repairs for life. Send the item with the repair form from your account.',
  },
  {
    id: 'waterproofing',
    category: 'Gear care & repairs',
    question: 'My rain shell is wetting out. What can I do?',
    answer:
      'Wash it on a gentle 30 °C cycle with a technical wash (no fabric softener), then tumble-dry on low for 20 minutes: the heat reactivates the water-repellent finish. If water still soaks in, re-proof it with a spray-on treatment.',
  },
  {
    id: 'membership',
    category: 'Account & payment',
    question: 'What do I get as a Gold member?',
    answer:
      'Free express delivery, free lifetime repairs, early access to the seasonal sale and a personal gear advisor in the chat. Membership is based on your purchases in the last twelve months and renews automatically.',
  },
];

/** Line icons (24×24, stroked with currentColor): system emoji fonts are not on every machine. */
const ICONS = {
  box: '<path d="M3 7.5 12 3l9 4.5v9L12 21l-9-4.5z"/><path d="M3 7.5 12 12l9-4.5M12 12v9"/>',
  returns: '<path d="M9 14 4 9l5-5"/><path d="M4 9h10.5a5.5 5.5 0 0 1 0 11H11"/>',
  ruler: '<rect x="2" y="8" width="20" height="8" rx="1.5"/><path d="M6 8v3M10 8v4M14 8v3M18 8v4"/>',
  wrench: '<path d="M14.7 6.3a4 4 0 0 0 5 5l-9.4 9.4a2.1 2.1 0 0 1-3-3z"/><path d="M14.7 6.3 17 4l3 3-2.3 2.3"/>',
  card: '<rect x="2" y="5" width="20" height="14" rx="2"/><path d="M2 10h20M6 15h4"/>',
  shield: '<path d="M12 3 4 6v6c0 4.5 3.4 8.2 8 9 4.6-.8 8-4.5 8-9V6z"/><path d="m9 12 2 2 4-4"/>',
};

const CATEGORIES: { name: string; icon: keyof typeof ICONS; blurb: string }[] = [
  { name: 'Orders & shipping', icon: 'box', blurb: 'Tracking, delivery times, customs' },
  { name: 'Returns & exchanges', icon: 'returns', blurb: '60-day returns, refunds, swaps' },
  { name: 'Sizing & fit', icon: 'ruler', blurb: 'Size charts and fit advice' },
  { name: 'Gear care & repairs', icon: 'wrench', blurb: 'Washing, re-proofing, our workshop' },
  { name: 'Account & payment', icon: 'card', blurb: 'Membership, invoices, gift cards' },
  { name: 'Warranty', icon: 'shield', blurb: 'What is covered and for how long' },
];

/** Escapes text for an HTML text node or a double-quoted attribute. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** Serialises a value for an inline `<script>` (no `</script>` or HTML comment can break out). */
function toScriptLiteral(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** The Northwind Outfitters help centre: a plain server-rendered page with the two Concierge script tags. */
export function renderHelpCentrePage({ user, conciergeUrl }: HelpCentrePageOptions): string {
  const host = conciergeUrl.replace(/\/+$/, '');
  const articles = ARTICLES.map(
    (article) => `
        <details class="article" id="${article.id}" data-search="${escapeHtml(`${article.category} ${article.question} ${article.answer}`.toLowerCase())}">
          <summary><span class="article-category">${escapeHtml(article.category)}</span>${escapeHtml(article.question)}</summary>
          <p>${article.answer}</p>
        </details>`,
  ).join('');
  const categories = CATEGORIES.map(
    (category) => `
        <li><a href="#articles" class="category"><svg class="category-icon" viewBox="0 0 24 24" aria-hidden="true">${ICONS[category.icon]}</svg><strong>${escapeHtml(category.name)}</strong><small>${escapeHtml(category.blurb)}</small></a></li>`,
  ).join('');

  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Help Centre · Northwind Outfitters</title>
  <link rel="icon" href="/assets/logo.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/assets/help-centre.css">
</head>
<body>
  <header class="site-header">
    <div class="wrap header-row">
      <a class="brand" href="/"><img src="/assets/logo.svg" alt="" width="36" height="36"><span>Northwind <em>Outfitters</em></span></a>
      <nav aria-label="Main">
        <a href="#">Shop</a><a href="#">Journal</a><a href="#">Stores</a><a href="/" aria-current="page">Help</a>
      </nav>
      <div class="account" id="account">
        <span class="avatar" aria-hidden="true">${escapeHtml(user.name.slice(0, 1))}</span>
        <span>Signed in as <strong>${escapeHtml(user.fullName)}</strong><small>${escapeHtml(user.tier)} member</small></span>
      </div>
    </div>
  </header>

  <main>
    <section class="hero">
      <div class="wrap">
        <h1>Hi ${escapeHtml(user.name)}, how can we help?</h1>
        <form class="search" role="search" onsubmit="return false">
          <label for="search" class="visually-hidden">Search the help centre</label>
          <input id="search" type="search" placeholder="Search: returns, sizing, repairs…" autocomplete="off">
          <button type="submit">Search</button>
        </form>
        <p class="hero-hint">Popular: <a href="#returns">returns</a> · <a href="#track-order">order tracking</a> · <a href="#repairs">repairs</a></p>
      </div>
    </section>

    <section class="wrap" aria-labelledby="topics-title">
      <h2 id="topics-title">Browse by topic</h2>
      <ul class="categories">${categories}
      </ul>
    </section>

    <section class="wrap" id="articles" aria-labelledby="articles-title">
      <h2 id="articles-title">Frequently asked questions</h2>
      <div class="articles">${articles}
        <p class="no-results" hidden>No article matches your search. Try our assistant instead.</p>
      </div>
    </section>

    <section class="contact" aria-labelledby="contact-title">
      <div class="wrap contact-grid">
        <div>
          <h2 id="contact-title">Still stuck?</h2>
          <p>Our assistant knows your orders and your membership and answers in seconds, day and night.</p>
          <button type="button" id="ask-assistant">Ask the assistant</button>
        </div>
        <dl>
          <div><dt>Phone</dt><dd>+44 113 496 0000<br><small>Mon–Fri, 8 am–6 pm</small></dd></div>
          <div><dt>Email</dt><dd>help@northwind.example<br><small>We reply within a working day</small></dd></div>
          <div><dt>Workshop</dt><dd>12 Canal Wharf, Leeds LS11 5PS</dd></div>
        </dl>
      </div>
    </section>
  </main>

  <footer class="site-footer">
    <div class="wrap">© Northwind Outfitters (a fictional company for the Concierge demo) · <a href="#">Privacy</a> · <a href="#">Terms</a></div>
  </footer>

  <script>
    // Site behaviour: filter the FAQ as you type, and open the chat from the contact section.
    const search = document.getElementById('search');
    search.addEventListener('input', () => {
      const words = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
      let shown = 0;
      for (const article of document.querySelectorAll('.article')) {
        const match = words.every((word) => article.dataset.search.includes(word));
        article.hidden = !match;
        if (match) shown += 1;
      }
      document.querySelector('.no-results').hidden = shown > 0;
    });
    document.getElementById('ask-assistant').addEventListener('click', () => {
      if (typeof window.ConciergeChat.open === 'function') window.ConciergeChat.open();
    });
  </script>

  <!-- Concierge chat widget: the two script tags from docs/embedding.md. -->
  <script>
    window.ConciergeChat = {
      host: ${toScriptLiteral(host)},
      fetchToken: async () => (await (await fetch("/concierge-token", { method: "POST" })).json()).token,
      title: "Northwind assistant",
      subtitle: "Orders, returns, sizing and repairs",
      greeting: ${toScriptLiteral(`Hi ${user.name}! I can help with orders, returns, sizing and repairs. What can I do for you?`)},
      logoUrl: new URL("/assets/logo.svg", location.href).href,
      theme: { accent: "#1f5f4a", radius: 14 }
    };
  </script>
  <script src="${escapeHtml(`${host}/widget/concierge.js`)}" async></script>
</body>
</html>
`;
}
