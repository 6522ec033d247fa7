/**
 * Opens an HTML report in a real browser: Debian's chromium
 * (scripts/install-deps.sh) driven over the DevTools protocol by
 * playwright-core (no browser download). Collects what went wrong in the
 * page (console errors, uncaught exceptions, requests that failed or left
 * file://), reads the DOM after the report's script ran, and keeps a
 * full-page screenshot in test-artifacts/ (gitignored; CI keeps it).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');

export interface RenderedCheck {
  status: string;
  id: string;
  /** Whether the row is shown (the filter script hides none by default). */
  visible: boolean;
}

export interface RenderedImage {
  instance: string;
  role: string;
  region: string;
  id: string;
  /** qcow2 images: file, sha256 and size as shown. */
  file?: string;
  sha256?: string;
  size?: string;
}

export interface RenderedReport {
  title: string;
  result: string;
  /** The header's facts: build id, hallmark version, ... */
  facts: Record<string, string>;
  /** Per instance: its facts (base image, config digest, verification digests, ...). */
  instanceFacts: Record<string, Record<string, string>>;
  /** Summary table rows: instance, result, passed, failed, errors, skipped. */
  summary: string[][];
  checks: RenderedCheck[];
  shownCount: string;
  images: RenderedImage[];
  sharing: Record<string, string>;
  parameters: { instance: string; name: string; region: string; value: string; version: string }[];
  /** Timeline spans: `lane step status`. */
  spans: string[];
  /** Console errors, page errors, failed or non-file requests. Must be empty. */
  problems: string[];
  screenshot: string;
}

/** Runs in the page (plain JS: this project compiles without the DOM's types): the DOM as data. */
const EXTRACT = `(() => {
  const text = (e) => ((e && e.textContent) || '').trim();
  const factsOf = (dl) => {
    const out = {};
    if (dl) for (const dt of dl.querySelectorAll('dt')) out[text(dt)] = text(dt.nextElementSibling);
    return out;
  };
  const instances = [...document.querySelectorAll('section.instance')];
  const name = (s) => s.getAttribute('data-instance');
  return {
    title: document.title,
    result: text(document.getElementById('result')),
    facts: factsOf(document.querySelector('header dl.facts')),
    instanceFacts: Object.fromEntries(instances.map((s) => [name(s), factsOf(s.querySelector('dl.facts'))])),
    summary: [...document.querySelectorAll('#summary tbody tr')].map((tr) => [...tr.querySelectorAll('td')].slice(0, 6).map(text)),
    checks: [...document.querySelectorAll('tr.check')].map((tr) => ({ status: tr.dataset.status, id: tr.dataset.id, visible: tr.offsetParent !== null })),
    shownCount: text(document.getElementById('shown')),
    images: instances.flatMap((s) => {
      const heads = [...s.querySelectorAll('table.images th')].map(text);
      return [...s.querySelectorAll('table.images tr.image')].map((tr) => {
        const c = Object.fromEntries([...tr.querySelectorAll('td')].map((td, i) => [heads[i], text(td)]));
        return { instance: name(s), role: c.Role, region: c['Region / target'], id: c['Image id'], ...(c.File !== undefined ? { file: c.File, sha256: c.sha256, size: c.Size } : {}) };
      });
    }),
    sharing: Object.fromEntries(instances.map((s) => [name(s), text(s.querySelector('.sharing'))])),
    parameters: instances.flatMap((s) => [...s.querySelectorAll('table.parameters tr')].slice(1).map((tr) => {
      const [p, region, value, version] = [...tr.querySelectorAll('td')].map(text);
      return { instance: name(s), name: p, region, value, version };
    })),
    spans: [...document.querySelectorAll('.timeline .lane')].flatMap((l) =>
      [...l.querySelectorAll('.span.step')].map((sp) => l.dataset.lane + ' ' + sp.dataset.step + ' ' + sp.dataset.status)),
  };
})()`;

/** Renders `file` in headless chromium; the screenshot goes to test-artifacts/<name>.png. */
export async function renderReport(file: string, name: string): Promise<RenderedReport> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-deps.sh (Debian's chromium package)`);
  await mkdir(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'], timeout: 60_000 });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) problems.push(`network request: ${r.url()}`);
    });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const dom = (await page.evaluate(EXTRACT)) as Omit<RenderedReport, 'problems' | 'screenshot'>;
    const screenshot = path.join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    return { ...dom, problems, screenshot };
  } finally {
    await browser.close();
  }
}
