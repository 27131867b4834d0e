/** The lazily loaded app chunk (`chunks/app-[hash].js`); the loader imports it by URL. */
export { mount } from './mount.ts';
export type { MountedApp, MountOptions } from './mount.ts';
