// The token the serve-mode webServer is started with (playwright.config.ts) and the specs use.
// Serve mode accepts 16-256 characters from A-Z a-z 0-9 - _.
export const E2E_TOKEN = process.env['BACKPROP_STUDIO_E2E_TOKEN'] ?? 'e2e_token_0123456789abcdef'

/** The app's address with the token, as serve mode prints it. */
export const appPath = (token: string = E2E_TOKEN): string => `/?token=${token}`
