/** A signed-in customer of the fictional shop, as the site's own session layer would know them. */
export interface DemoUser {
  id: string;
  name: string;
  fullName: string;
  email: string;
  tier: 'bronze' | 'silver' | 'gold';
}

/**
 * The demo has no login form: every visitor is Ada. A real site takes the user from its session
 * (cookie, OAuth, …) and never from the request body.
 */
export const DEMO_USER: DemoUser = {
  id: 'demo-user-1',
  name: 'Ada',
  fullName: 'Ada Lovelace',
  email: 'ada@example.com',
  tier: 'gold',
};
