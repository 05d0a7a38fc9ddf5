// Headless Chromium for the browser tests: Debian's chromium driven by playwright-core.
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether Chromium is installed here (`.ci/run` installs it; elsewhere the browser tests skip). */
export const haveChromium: boolean = await Deno.stat(CHROMIUM).then(() => true, () => false);

/** A headless Chromium; close it when done. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
}
