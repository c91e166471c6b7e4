// Browser check of a built sitrep site, run by tests/browser.rs:
//
//   node check.mjs <site dir> <screenshot dir>
//
// Serves the site on 127.0.0.1 (an ephemeral port) with the headers of its `_headers` file,
// so the Content-Security-Policy is enforced, and drives Debian's headless Chromium with
// playwright-core. Every HTML page is loaded at 390 px: no console error, no CSP violation,
// no failed request, no horizontal overflow. Chosen pages are also checked for layout at
// 1280 px, metadata, keyboard access and print styles, run through axe-core in light and
// dark mode, and photographed. Prints the weight of the home and a post page. Exits
// non-zero with every failure listed.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [siteArg, shotsArg] = process.argv.slice(2);
if (!siteArg || !shotsArg) {
  console.error('usage: node check.mjs <site dir> <screenshot dir>');
  process.exit(2);
}
const SITE = path.resolve(siteArg);
const SHOTS = path.resolve(shotsArg);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const POST = '/posts/ldp-active-cyber-defence-debate/';
const TERM = '/tags/policy/';
const CVE = '/cve/CVE-2024-3400/';
const MISSING = '/no-such-story/';
// A post with a wide image: width/height, lazy loading, WebP srcset.
const IMAGE_POST = '/posts/pan-os-globalprotect-cve-2024-3400/';
const PAN = '/posts/pan-os-globalprotect-cve-2024-3400/';
// Search queries on the demo site: the query, a post that must be in the results, posts
// that must not be, whether the first result must be that post, and whether a result shows
// a matched word in <mark> (results show titles, TLDRs and tags; T1059.004 and the Japanese
// words are only in the bodies).
const SEARCHES = [
  ['CVE-2024-3400', PAN, [], true, true],
  ['2024-3400', PAN, [], true, true],
  // Two demo posts name T1059 techniques; the PAN-OS one only its sub-technique T1059.004.
  ['T1059', PAN, [], false, false],
  ['ransomw', '/posts/change-healthcare-ransomware-attack/', [], false, true],
  ['能動的サイバー防御', '/posts/japan-active-cyber-defence-law-enacted/', [PAN], true, false],
];
// A post with callouts, every built-in shortcode, click-to-play embeds and IOC tables.
const RICH = '/posts/phishing-kit-field-guide/';
const YOUTUBE = 'https://www.youtube-nocookie.com';

const failures = [];
const fail = (where, what) => failures.push(`${where}: ${what}`);

// ---------------------------------------------------------------- static server

/** The `_headers` rules: [{pattern, headers: [[name, value]]}]. */
function readHeaders(file) {
  const rules = [];
  if (!fs.existsSync(file)) return rules;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    if (!/^\s/.test(line)) {
      rules.push({ pattern: line.trim(), headers: [] });
    } else if (rules.length) {
      const i = line.indexOf(':');
      rules[rules.length - 1].headers.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
    }
  }
  return rules;
}

function matches(pattern, urlPath) {
  if (pattern.endsWith('*')) return urlPath.startsWith(pattern.slice(0, -1));
  return pattern === urlPath;
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml', '.xml': 'application/xml; charset=utf-8',
  '.json': 'application/json; charset=utf-8', '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png', '.webmanifest': 'application/manifest+json', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp',
  '.gif': 'image/gif', '.ico': 'image/x-icon',
};

// A page that breaks the CSP on purpose, to prove violations are seen.
const PROBE = '/__csp-probe.html';
const PROBE_HTML = '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>probe</title></head>'
  + '<body><p style="color: red">inline style</p><script>document.title = "ran";</script></body></html>';

// `headers: false` serves the files alone, as a host without header control does (GitHub
// Pages): then only the pages' own <meta> Content-Security-Policy protects them.
function serve(root, { headers = true } = {}) {
  const rules = headers ? readHeaders(path.join(root, '_headers')) : [];
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const send = (status, file, body) => {
      for (const rule of rules) {
        if (matches(rule.pattern, urlPath)) for (const [n, v] of rule.headers) res.setHeader(n, v);
      }
      res.setHeader('Content-Type', TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream');
      res.setHeader('Cache-Control', 'no-store');
      res.writeHead(status);
      res.end(body);
    };
    if (urlPath === PROBE) return send(200, PROBE, PROBE_HTML);
    let file = path.join(root, urlPath);
    if (!file.startsWith(root + path.sep) && file !== root) return send(403, 'x.txt', 'forbidden');
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
      if (!urlPath.endsWith('/')) {
        res.writeHead(301, { Location: urlPath + '/' });
        return res.end();
      }
      file = path.join(file, 'index.html');
    }
    if (fs.existsSync(file) && fs.statSync(file).isFile()) return send(200, file, fs.readFileSync(file));
    const notFound = path.join(root, '404.html');
    return send(404, notFound, fs.existsSync(notFound) ? fs.readFileSync(notFound) : 'not found');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function htmlPages(root) {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.html')) out.push(p);
    }
  };
  walk(root);
  return out
    .filter((p) => !fs.readFileSync(p, 'utf8').includes('<meta http-equiv="refresh"')) // alias redirects leave the host
    .map((p) => '/' + path.relative(root, p).split(path.sep).join('/'))
    .map((u) => (u.endsWith('/index.html') ? u.slice(0, -'index.html'.length) : u))
    .sort();
}

// ---------------------------------------------------------------- page helpers

const CSP_LISTENER = `
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at line ' + e.lineNumber);
  });
`;

/** Opens `url` in a fresh page and collects what went wrong. */
async function visit(context, base, url, { width = 390, scheme = 'light', expectStatus = 200, cspHeader = true } = {}) {
  const page = await context.newPage();
  await page.setViewportSize({ width, height: 900 });
  await page.emulateMedia({ colorScheme: scheme, media: 'screen' });
  const problems = [];
  const responses = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // The browser logs the expected 404 of a missing page's own document as an error.
    const own404 = expectStatus === 404 && m.location().url === base + url && m.text().includes('404');
    if (!own404) problems.push('console error: ' + m.text());
  });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('response', (r) => {
    responses.push(r);
    const status = r.status();
    const isDoc = r.request().isNavigationRequest() && r.url() === base + url;
    if (status >= 400 && !(isDoc && status === expectStatus)) problems.push(`HTTP ${status} for ${r.url()}`);
  });
  const main = await page.goto(base + url, { waitUntil: 'load' });
  if (main.status() !== expectStatus) problems.push(`status ${main.status()}, expected ${expectStatus}`);
  const hasHeader = Boolean(main.headers()['content-security-policy']);
  if (cspHeader && !hasHeader && url !== PROBE) problems.push('no Content-Security-Policy header');
  if (!cspHeader && hasHeader) problems.push('a Content-Security-Policy header where none was expected');
  const csp = await page.evaluate(() => window.__csp || []);
  for (const v of csp) problems.push('CSP violation: ' + v);
  return { page, problems, responses, main };
}

async function overflow(page) {
  return page.evaluate(() => {
    const doc = document.documentElement;
    const wide = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > doc.clientWidth + 0.5)
      .filter((el) => !el.closest('pre, table, .visually-hidden'))
      .slice(0, 3)
      .map((el) => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
    return { scroll: doc.scrollWidth, client: doc.clientWidth, wide };
  });
}

async function weigh(result) {
  let transferred = 0;
  let gzipped = 0;
  const files = [];
  for (const r of result.responses) {
    const sizes = await r.request().sizes();
    const body = await r.body().catch(() => Buffer.alloc(0));
    transferred += sizes.responseBodySize + sizes.responseHeadersSize;
    gzipped += zlib.gzipSync(body, { level: 9 }).length + sizes.responseHeadersSize;
    files.push(new URL(r.url()).pathname);
  }
  return { requests: result.responses.length, transferred, gzipped, files };
}

async function runAxe(page, label) {
  const source = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source); // evaluated by the driver, not injected as an inline script
  const results = await page.evaluate(() => axe.run(document, { resultTypes: ['violations'] }));
  for (const v of results.violations) {
    const nodes = v.nodes.slice(0, 3).map((n) => n.target.join(' ') + (n.failureSummary ? ` (${n.failureSummary.replace(/\s+/g, ' ')})` : ''));
    fail(label, `axe ${v.id} [${v.impact}]: ${v.help}: ${nodes.join('; ')}`);
  }
  return results.violations.length;
}

// ---------------------------------------------------------------- the checks

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const server = await serve(SITE);
  const base = `http://127.0.0.1:${server.address().port}`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sitrep-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  await context.addInitScript(CSP_LISTENER);
  // Nothing may leave the loopback server: a request elsewhere is aborted, and so fails.
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.origin === base) return route.continue();
    failures.push(`request to another host: ${u.href}`);
    return route.abort('blockedbyclient');
  });
  const weights = {};
  try {
    // 0. The check itself can fail: a page with an inline style and script is caught.
    {
      const probe = await visit(context, base, PROBE);
      const caught = probe.problems.filter((p) => p.includes('CSP') || p.includes('Content Security Policy'));
      if (caught.length < 2) fail('self-test', `a CSP-breaking page was not caught: ${JSON.stringify(probe.problems)}`);
      await probe.page.close();
    }

    // 1. Every HTML page at 390 px: loads clean, no horizontal overflow.
    const pages = htmlPages(SITE);
    for (const url of pages) {
      const r = await visit(context, base, url, { width: 390 });
      for (const p of r.problems) fail(url, p);
      const o = await overflow(r.page);
      if (o.scroll > o.client) fail(url, `horizontal overflow at 390 px: ${o.scroll} > ${o.client} (${o.wide.join(', ')})`);
      await r.page.close();
    }
    console.log(`checked ${pages.length} pages at 390 px`);

    // 2. A missing page gets the 404 page, styled, with status 404.
    {
      const r = await visit(context, base, MISSING, { width: 390, expectStatus: 404 });
      for (const p of r.problems) fail(MISSING, p);
      const h1 = await r.page.textContent('h1');
      if (!/not found/i.test(h1)) fail(MISSING, `404 page h1 is ${JSON.stringify(h1)}`);
      const styled = await r.page.evaluate(() => getComputedStyle(document.querySelector('.masthead')).backgroundColor);
      if (styled === 'rgba(0, 0, 0, 0)') fail(MISSING, 'the stylesheet did not load on a nested 404');
      await r.page.screenshot({ path: path.join(SHOTS, '404-390.png'), fullPage: true });
      await r.page.close();
    }

    // 3. Layout: sidebar beside the article at 1280 px, below it at 390 px.
    for (const [width, beside] of [[1280, true], [390, false]]) {
      const r = await visit(context, base, POST, { width });
      const box = await r.page.evaluate(() => {
        const rect = (s) => document.querySelector(s).getBoundingClientRect().toJSON();
        return { main: rect('main'), aside: rect('aside.sidebar') };
      });
      const isBeside = box.aside.left >= box.main.right - 1 && box.aside.top < box.main.bottom;
      const isBelow = box.aside.top >= box.main.bottom - 1;
      if (beside && !isBeside) fail(POST, `sidebar not beside the article at ${width} px: ${JSON.stringify(box)}`);
      if (!beside && !isBelow) fail(POST, `sidebar not below the article at ${width} px: ${JSON.stringify(box)}`);
      await r.page.close();
    }

    // 4. Screenshots, page weight, axe in light and dark.
    const shots = [['home', '/'], ['post', POST], ['term', TERM], ['cve', CVE],
      ['code', '/posts/xz-utils-backdoor-cve-2024-3094/'], ['table', '/posts/incident-reporting-deadlines-compared/'],
      ['tags', '/tags/'], ['about', '/about/'], ['404', MISSING], ['rich', RICH], ['image', IMAGE_POST],
      ['cves', '/cve/'], ['kev', '/cve/kev/'], ['attack', '/attack/'], ['technique', '/attack/T1059.001/']];
    for (const [name, url] of shots) {
      for (const [width, scheme] of [[1280, 'light'], [390, 'light'], [1280, 'dark']]) {
        const expectStatus = url === MISSING ? 404 : 200;
        const r = await visit(context, base, url, { width, scheme, expectStatus });
        for (const p of r.problems) fail(`${url} ${width} ${scheme}`, p);
        await r.page.screenshot({ path: path.join(SHOTS, `${name}-${width}-${scheme}.png`), fullPage: true });
        if (width === 1280 && scheme === 'light' && (name === 'home' || name === 'post')) weights[name] = { url, ...(await weigh(r)) };
        await runAxe(r.page, `${url} ${width} ${scheme}`);
        await r.page.close();
      }
      // The narrowest phones.
      const r = await visit(context, base, url, { width: 360, expectStatus: url === MISSING ? 404 : 200 });
      const o = await overflow(r.page);
      if (o.scroll > o.client) fail(url, `horizontal overflow at 360 px: ${o.scroll} > ${o.client} (${o.wide.join(', ')})`);
      await r.page.close();
    }

    // 5. Metadata of a post: JSON-LD, Open Graph, canonical, feeds, lang.
    {
      const r = await visit(context, base, POST, { width: 1280 });
      const meta = await r.page.evaluate(() => {
        const attr = (s, a) => document.querySelector(s)?.getAttribute(a) ?? null;
        const ld = [...document.querySelectorAll('script[type="application/ld+json"]')].map((s) => JSON.parse(s.textContent));
        return {
          lang: document.documentElement.lang,
          h1: document.querySelector('h1').textContent,
          title: document.title,
          description: attr('meta[name="description"]', 'content'),
          canonical: attr('link[rel="canonical"]', 'href'),
          ogTitle: attr('meta[property="og:title"]', 'content'),
          ogType: attr('meta[property="og:type"]', 'content'),
          ogUrl: attr('meta[property="og:url"]', 'content'),
          twitter: attr('meta[name="twitter:card"]', 'content'),
          feeds: [...document.querySelectorAll('link[rel="alternate"]')].map((l) => l.type),
          icon: attr('link[rel="icon"]', 'href'),
          ld,
          inline: document.querySelectorAll('[style], script:not([type="application/ld+json"])').length,
        };
      });
      const want = (ok, what) => { if (!ok) fail(POST, `metadata: ${what}: ${JSON.stringify(meta)}`); };
      want(meta.lang === 'en', 'lang');
      want(meta.title.startsWith(meta.h1), 'title');
      want(meta.description && meta.description.length > 50, 'description');
      want(meta.canonical === 'https://news.example.com' + POST, 'canonical');
      want(meta.ogTitle === meta.h1 && meta.ogType === 'article' && meta.ogUrl === meta.canonical, 'Open Graph');
      want(meta.twitter === 'summary' || meta.twitter === 'summary_large_image', 'Twitter card');
      want(['application/rss+xml', 'application/atom+xml', 'application/feed+json'].every((t) => meta.feeds.includes(t)), 'feed links');
      want(/^\/favicon\.[0-9a-f]{16}\.svg$/.test(meta.icon), 'favicon (its content-hashed copy)');
      want(meta.inline === 0, 'inline script or style');
      const ld = meta.ld[0] || {};
      want(meta.ld.length === 1 && ld['@type'] === 'NewsArticle' && ld.headline === meta.h1, 'JSON-LD NewsArticle');
      want(ld.datePublished && ld.author?.length && ld.publisher?.name, 'JSON-LD dates and people');

      // Keyboard: the first Tab reaches the skip link, and it shows.
      await r.page.keyboard.press('Tab');
      const skip = await r.page.evaluate(() => {
        const el = document.activeElement;
        const b = el.getBoundingClientRect();
        return { cls: el.className, top: b.top, height: b.height };
      });
      if (skip.cls !== 'skip-link' || skip.top < 0 || skip.height < 10) fail(POST, `skip link not shown on Tab: ${JSON.stringify(skip)}`);
      await r.page.keyboard.press('Enter');
      const focused = await r.page.evaluate(() => document.activeElement.id);
      if (focused !== 'main') fail(POST, `skip link did not move focus to main (focus on #${focused})`);

      // Print: only the story.
      await r.page.emulateMedia({ media: 'print' });
      const hidden = await r.page.evaluate(() => ['.sidebar', '.site-nav', '.post-nav']
        .filter((s) => getComputedStyle(document.querySelector(s)).display !== 'none'));
      if (hidden.length) fail(POST, `print styles show ${hidden.join(', ')}`);
      await r.page.screenshot({ path: path.join(SHOTS, 'post-print.png'), fullPage: true });
      await r.page.close();
    }

    // 6. No layout shift on any post page (CLS 0 from the PerformanceObserver API), with
    //    the page scrolled to the end so lazy images load; and images have their sizes.
    {
      const posts = htmlPages(SITE).filter((u) => u.startsWith('/posts/'));
      let withImages = 0;
      for (const url of posts) {
        for (const width of [1280, 390]) {
          const r = await visit(context, base, url, { width });
          const shift = await r.page.evaluate(async () => {
            let cls = 0;
            const seen = [];
            new PerformanceObserver((list) => {
              for (const e of list.getEntries()) {
                if (!e.hadRecentInput) { cls += e.value; seen.push(e.value); }
              }
            }).observe({ type: 'layout-shift', buffered: true });
            for (let y = 0; y <= document.body.scrollHeight; y += 300) {
              window.scrollTo(0, y);
              await new Promise((res) => setTimeout(res, 30));
            }
            await Promise.all([...document.images].map((img) => (img.complete ? null : new Promise((res) => { img.onload = img.onerror = res; }))));
            await new Promise((res) => setTimeout(res, 200));
            const imgs = [...document.querySelectorAll('main img')].map((i) => ({
              src: i.getAttribute('src'), w: i.getAttribute('width'), h: i.getAttribute('height'),
              srcset: i.getAttribute('srcset'), current: i.currentSrc, natural: i.naturalWidth,
            }));
            return { cls, seen, imgs };
          });
          if (shift.cls !== 0) fail(url, `layout shift at ${width} px: CLS ${shift.cls} (${shift.seen.join(', ')})`);
          for (const i of shift.imgs) {
            if (!i.w || !i.h) fail(url, `image without width/height: ${JSON.stringify(i)}`);
            if (!i.natural) fail(url, `image did not load: ${JSON.stringify(i)}`);
          }
          if (width === 1280 && shift.imgs.some((i) => i.srcset)) {
            withImages += 1;
            const i = shift.imgs.find((x) => x.srcset);
            if (!i.current.endsWith('.webp')) fail(url, `the browser did not pick a WebP variant: ${JSON.stringify(i)}`);
          }
          await r.page.close();
        }
      }
      if (withImages === 0) fail('images', 'no demo post has a responsive image to check');
      console.log(`CLS 0 checked on ${posts.length} post pages at 1280 and 390 px (${withImages} with a srcset image)`);
    }

    // 7. Social cards: the post's og:image is its card; the demo's cards are kept.
    {
      const r = await visit(context, base, POST, { width: 1280 });
      const og = await r.page.evaluate(() => ({
        image: document.querySelector('meta[property="og:image"]')?.content,
        w: document.querySelector('meta[property="og:image:width"]')?.content,
        h: document.querySelector('meta[property="og:image:height"]')?.content,
        twitter: document.querySelector('meta[name="twitter:card"]')?.content,
      }));
      if (og.image !== `https://news.example.com${POST}card.png` || og.w !== '1200' || og.h !== '630' || og.twitter !== 'summary_large_image') {
        fail(POST, `social card metadata: ${JSON.stringify(og)}`);
      }
      await r.page.close();
      const card = await context.newPage();
      const resp = await card.goto(`${base}${POST}card.png`);
      if (!resp || resp.status() !== 200 || resp.headers()['content-type'] !== 'image/png') fail(POST, 'card.png is not served as a PNG');
      await card.close();
      const cardsDir = path.join(SHOTS, 'cards');
      fs.mkdirSync(cardsDir, { recursive: true });
      let n = 0;
      for (const url of htmlPages(SITE).filter((u) => u.startsWith('/posts/'))) {
        const file = path.join(SITE, url, 'card.png');
        if (fs.existsSync(file)) {
          fs.copyFileSync(file, path.join(cardsDir, `${url.split('/').filter(Boolean).pop()}.png`));
          n += 1;
        }
      }
      console.log(`${n} social cards copied to ${cardsDir}`);
    }

    // 8. Search: /search/?q=… shows results on load, with the matched words marked; typing
    // updates them and the URL; clean in light and dark mode.
    for (const [q, want, unwanted, first, marked] of SEARCHES) {
      const url = '/search/?q=' + encodeURIComponent(q);
      for (const scheme of ['light', 'dark']) {
        const r = await visit(context, base, url, { width: 1280, scheme });
        const where = `${url} ${scheme}`;
        await r.page.waitForSelector('[data-search-results] li a', { timeout: 10000 })
          .catch(() => fail(where, 'no search results appeared'));
        const got = await r.page.evaluate(() => ({
          links: [...document.querySelectorAll('[data-search-results] > li h2 a')].map((a) => new URL(a.href).pathname),
          marks: [...document.querySelectorAll('[data-search-results] mark')].map((m) => m.textContent),
          status: document.querySelector('[data-search-status]').textContent,
          input: document.querySelector('input[name=q]').value,
          fallbackHidden: document.querySelector('[data-search-fallback]').hidden,
        }));
        if (!got.links.includes(want)) fail(where, `results ${JSON.stringify(got.links)} lack ${want}`);
        if (first && got.links[0] !== want) fail(where, `first result is ${got.links[0]}, not ${want}`);
        for (const u of unwanted) if (got.links.includes(u)) fail(where, `results include ${u}`);
        if (marked && !got.marks.length) fail(where, 'no matched term is marked');
        if (!/result/.test(got.status)) fail(where, `status says ${JSON.stringify(got.status)}`);
        if (got.input !== q) fail(where, `the box shows ${JSON.stringify(got.input)}`);
        if (!got.fallbackHidden) fail(where, 'the no-script advice is still shown');
        await runAxe(r.page, where);
        await r.page.screenshot({ path: path.join(SHOTS, `search-${SEARCHES.findIndex((x) => x[0] === q)}-${scheme}.png`), fullPage: true });
        for (const p of r.problems) fail(where, p);
        const csp = await r.page.evaluate(() => window.__csp || []);
        for (const v of csp) fail(where, 'CSP violation after search: ' + v);
        await r.page.close();
      }
    }
    {
      // Typing: results follow the box, and the URL follows the query.
      const r = await visit(context, base, '/search/', { width: 390 });
      await r.page.fill('input[name=q]', 'globalprot');
      await r.page.waitForFunction(() => document.querySelectorAll('[data-search-results] li a').length > 0, null, { timeout: 10000 })
        .catch(() => fail('/search/ typing', 'no results after typing'));
      const href = r.page.url();
      if (!href.endsWith('/search/?q=globalprot')) fail('/search/ typing', `the URL is ${href}`);
      const o = await overflow(r.page);
      if (o.scroll > o.client) fail('/search/ typing', `horizontal overflow at 390 px: ${o.wide.join(', ')}`);
      await r.page.screenshot({ path: path.join(SHOTS, 'search-typing-390.png'), fullPage: true });
      for (const p of r.problems) fail('/search/ typing', p);
      await r.page.close();
    }

    // 9. The rich post: nothing from another host until the reader clicks a video; the
    //    click swaps in a youtube-nocookie.com player that the CSP's frame-src allows; IOC
    //    copy buttons copy the real (refanged) value.
    {
      const page = await context.newPage();
      await page.setViewportSize({ width: 1280, height: 900 });
      const problems = [];
      const elsewhere = [];
      page.on('console', (m) => { if (m.type() === 'error') problems.push('console error: ' + m.text()); });
      page.on('pageerror', (e) => problems.push('page error: ' + e.message));
      page.on('request', (r) => { if (new URL(r.url()).origin !== base) elsewhere.push(r.url()); });
      // The player is answered locally: the test never reaches the internet.
      let playerRequests = 0;
      await page.route(YOUTUBE + '/**', (route) => {
        playerRequests += 1;
        return route.fulfill({ status: 200, contentType: 'text/html', body: '<!DOCTYPE html><title>player</title><p>player</p>' });
      });
      const main = await page.goto(base + RICH, { waitUntil: 'load' });
      if (main.status() !== 200) problems.push(`status ${main.status()}`);
      const before = await page.evaluate(() => ({
        frames: document.querySelectorAll('iframe').length,
        embeds: document.querySelectorAll('a[data-embed-src]').length,
        callouts: document.querySelectorAll('.callout').length,
        figures: document.querySelectorAll('figure.figure img').length,
        iocRows: document.querySelectorAll('td[data-ioc]').length,
        buttons: document.querySelectorAll('button.ioc-copy').length,
        realShown: [...document.querySelectorAll('.ioc-real')].filter((c) => getComputedStyle(c).display !== 'none').length,
        iocLinks: document.querySelectorAll('td[data-ioc] a').length,
      }));
      console.log('rich post before a click: ' + JSON.stringify(before));
      const want = (ok, what) => { if (!ok) fail(RICH, `${what}: ${JSON.stringify(before)}`); };
      want(before.frames === 0, 'an iframe before any click');
      want(before.embeds >= 2 && before.callouts >= 5 && before.figures === 1, 'embeds, callouts and the figure');
      want(before.iocRows >= 8 && before.buttons === before.iocRows, 'a copy button per indicator');
      want(before.realShown === 0, 'real values shown while rich.js runs');
      want(before.iocLinks === 0, 'an indicator is a link');
      if (elsewhere.length) fail(RICH, `requests to other hosts before a click: ${elsewhere.join(' ')}`);

      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
      const cell = page.locator('td[data-ioc^="https://"]').first();
      const real = await cell.getAttribute('data-ioc');
      await cell.locator('button.ioc-copy').click();
      await page.waitForFunction(() => document.querySelector('.ioc-status')?.textContent.startsWith('Copied'));
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      if (copied !== real) fail(RICH, `copy gave ${JSON.stringify(copied)}, not the real value ${JSON.stringify(real)}`);
      if (!real.startsWith('https://') || (await cell.locator('.ioc-defanged').textContent()).includes('https://')) {
        fail(RICH, 'the URL indicator is not shown defanged');
      }

      await page.locator('.embed-youtube a.embed-link').click();
      const frame = await page.waitForSelector('.embed-youtube iframe', { timeout: 5000 }).catch(() => null);
      const src = frame ? await frame.getAttribute('src') : '';
      if (!src.startsWith(YOUTUBE + '/embed/')) fail(RICH, `the click made no youtube-nocookie player (${src})`);
      await page.waitForTimeout(300);
      if (playerRequests === 0) fail(RICH, 'the player was not requested after the click');
      const stray = elsewhere.filter((u) => !u.startsWith(YOUTUBE + '/'));
      if (stray.length) fail(RICH, `requests to other hosts: ${stray.join(' ')}`);
      const csp = await page.evaluate(() => window.__csp || []);
      for (const v of csp) problems.push('CSP violation: ' + v);
      for (const p of problems) fail(RICH, p);
      await page.screenshot({ path: path.join(SHOTS, 'rich-after-click.png'), fullPage: true });
      await page.close();
    }

    // 7. Without headers, as on GitHub Pages: the <meta> CSP alone, and no violation.
    {
      const bare = await serve(SITE, { headers: false });
      const bareBase = `http://127.0.0.1:${bare.address().port}`;
      await context.route('**/*', (route) => {
        const u = new URL(route.request().url());
        if (u.origin === bareBase || u.origin === base) return route.continue();
        failures.push(`request to another host: ${u.href}`);
        return route.abort('blockedbyclient');
      });
      try {
        for (const url of ['/', POST, '/posts/xz-utils-backdoor-cve-2024-3094/', CVE, MISSING]) {
          const expectStatus = url === MISSING ? 404 : 200;
          const r = await visit(context, bareBase, url, { width: 1280, expectStatus, cspHeader: false });
          for (const p of r.problems) fail(`${url} (meta CSP only)`, p);
          const meta = await r.page.evaluate(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.content ?? null);
          if (!meta || !meta.includes("default-src 'self'")) fail(`${url} (meta CSP only)`, `no <meta> CSP: ${meta}`);
          // The tag is in force: an inline script added to the page is blocked and reported.
          const probe = await r.page.evaluate(async () => {
            const s = document.createElement('script');
            s.textContent = 'window.__ran = true;';
            document.body.append(s);
            await new Promise((done) => setTimeout(done, 100));
            return { ran: window.__ran === true, reported: window.__csp.length };
          });
          if (probe.ran || probe.reported !== 1) fail(`${url} (meta CSP only)`, `the <meta> CSP did not block an inline script: ${JSON.stringify(probe)}`);
          await r.page.close();
        }
        console.log('checked 5 pages served without headers: the <meta> CSP holds, no violations');
      } finally {
        bare.close();
      }
    }
  } finally {
    await context.close();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }

  for (const [name, w] of Object.entries(weights)) {
    console.log(`weight of ${name} (${w.url}): ${w.transferred} bytes transferred uncompressed in ${w.requests} requests (${w.files.join(' ')}); ${w.gzipped} bytes with gzip`);
  }
  fs.writeFileSync(path.join(SHOTS, 'weights.json'), JSON.stringify(weights, null, 2) + '\n');
  console.log(`screenshots in ${SHOTS}`);
  if (failures.length) {
    console.error(`${failures.length} browser check failure(s):`);
    for (const f of failures) console.error('  - ' + f);
    process.exit(1);
  }
  console.log('browser checks passed');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
