/**
 * Open a rendered report in real headless Chromium and check it: no console
 * errors, no network requests that fail (the page should make none besides
 * itself), and every chart drew visible marks. Shared by the report unit tests
 * and the end-to-end CLI test.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Whether the browser tests should be skipped: only when Chromium is missing
 * and we are not on CI (on CI a missing browser is a failure, not a skip).
 */
export function browserSkipReason(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null;
  if (process.env.CI) return null;
  return `${CHROMIUM_PATH} not found and CI is not set: skipping the headless-browser report check (apt-get install -y chromium to run it)`;
}

export interface ChartMarks {
  /** The figure's data-chart name. */
  name: string;
  /** Visible drawn elements (path, rect, line, circle, text with a non-empty bounding box). */
  marks: number;
  /** Whether the figure contains an <svg>. */
  hasSvg: boolean;
}

export interface BrowserCheck {
  consoleErrors: string[];
  /** Failed requests, and any request to something other than the report file itself. */
  failedRequests: string[];
  charts: ChartMarks[];
  /** Every request the page made (the report itself should be the only one). */
  requests: string[];
  /** alert/confirm/prompt dialogs the page tried to open (dismissed). */
  dialogs: string[];
}

/** Open `htmlPath` via file://, collect problems, count drawn marks per chart, save a full-page screenshot (in the caller's temporary folder, not the repository). */
export async function checkReportInBrowser(htmlPath: string, screenshotPath: string): Promise<BrowserCheck> {
  const url = pathToFileURL(resolve(htmlPath)).href;
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    const failedRequests: string[] = [];
    const requests: string[] = [];
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));
    page.on('request', (req) => {
      requests.push(req.url());
      if (req.url() !== url) failedRequests.push(`unexpected request: ${req.url()}`);
    });
    page.on('requestfailed', (req) => failedRequests.push(`${req.url()}: ${req.failure()?.errorText ?? 'failed'}`));

    const response = await page.goto(url, { waitUntil: 'load' });
    if (response && !response.ok()) failedRequests.push(`${url}: status ${response.status()}`);

    const charts = await page.$$eval('figure.chart', (figures) =>
      figures.map((fig) => {
        const svg = fig.querySelector('svg');
        let marks = 0;
        if (svg) {
          // Runs in the page; typed loosely because the project compiles without the DOM lib.
          const view = globalThis as unknown as { getComputedStyle(el: unknown): { display: string; visibility: string } };
          for (const el of svg.querySelectorAll('path, rect, line, circle, text')) {
            const box = el.getBoundingClientRect();
            const style = view.getComputedStyle(el);
            if (style.display === 'none' || style.visibility === 'hidden') continue;
            if (box.width > 0 || box.height > 0) marks += 1;
          }
        }
        return { name: fig.getAttribute('data-chart') ?? '', marks, hasSvg: svg != null };
      }),
    );

    mkdirSync(dirname(resolve(screenshotPath)), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    await context.close();
    return { consoleErrors, failedRequests, charts, requests, dialogs };
  } finally {
    await browser.close();
  }
}
