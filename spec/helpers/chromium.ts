import type { Browser } from 'playwright-core';
import * as webStreams from 'node:stream/web';

// Debian's chromium (installed by .ci/run), headless, with the flags the workplace requires.
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Launches headless Chromium through playwright-core. playwright-core (test tooling) needs the
 * runtime's stream globals, which the ponyfill project removes. The library takes the classes
 * the setup gave useStreamClasses() before any global, so giving the tooling its globals back
 * does not change what is under test. launch() gives Chromium a fresh temporary
 * --user-data-dir of its own and removes it after.
 */
export function launchChromium(): Promise<Browser> {
  const g = globalThis as Record<string, unknown>;
  for (const name of ['ReadableStream', 'WritableStream', 'TransformStream'] as const) g[name] ??= webStreams[name];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
}
