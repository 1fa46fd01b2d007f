// Debian's Chromium driven by playwright-core. No browser is ever downloaded: the test
// fails with a clear message when /usr/bin/chromium is missing (scripts/setup.sh installs it).

import fs from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM_PATH}: the browser tests drive Debian's chromium package. ` +
        "Install it with `apt-get install chromium` (scripts/setup.sh does this), then run the tests again.",
    );
  }
  // Each user gets a new browser context (its own cookies, storage and profile state).
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true, timeout: 60_000 });
}
