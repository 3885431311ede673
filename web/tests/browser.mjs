// Starts Debian's Chromium headless for barrage's browser tests, through playwright-core
// (which never downloads a browser of its own). The flags keep Chromium off the network it
// would otherwise try (updates, sync, Google's hosts), which this machine refuses.
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.BARRAGE_CHROMIUM || '/usr/bin/chromium';

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

// Fails the script with a message (the Rust test that ran it shows stdout and stderr).
export function check(condition, message) {
  if (!condition) {
    throw new Error(`check failed: ${message}`);
  }
}
