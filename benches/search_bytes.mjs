// Bytes a reader downloads to search a built sitrep site, by the client's own fetch plan:
//
//   node benches/search_bytes.mjs <output dir> [query …]
//
// Runs the default theme's search.js engine (the code the browser runs) in node over the
// files of the output folder, and counts every file the browser would fetch: search.js,
// the manifest, the shards of the query's terms, and the records of the first 10 results.
// The first query starts with nothing cached; each later query reuses what the earlier ones
// fetched (as the page does). Sizes are raw and gzip -6 (what hosts send, compressed).
// Prints one line per query and a JSON summary. Pagefind 1.6, for comparison, transfers about
// 194 kB for a first query on a 10,000-page site (issue #12).
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const here = path.dirname(new URL(import.meta.url).pathname);
const [out, ...args] = process.argv.slice(2);
if (!out) {
  console.error("usage: node benches/search_bytes.mjs <output dir> [query …]");
  process.exit(2);
}
const queries = args.length ? args : ["CVE-2021-52678", "ransom", "2019-34925", "exploited vpn", "microsoft exchange", "T1190", "globalprotect"];
const engine = require(path.join(here, "../themes/default/static/search.js"));

const sizes = (file) => {
  const bytes = fs.readFileSync(path.join(out, file));
  return { raw: bytes.length, gzip: zlib.gzipSync(bytes, { level: 6 }).length, bytes };
};
let fetched = new Map();
let log = [];
const get = (url) => {
  if (!fetched.has(url)) {
    const s = sizes(url.replace(/^\//, ""));
    log.push({ url, raw: s.raw, gzip: s.gzip });
    fetched.set(url, Promise.resolve(JSON.parse(s.bytes.toString("utf8"))));
  }
  return fetched.get(url);
};
const search = engine.searcher("/search/index.json", get);
const js = sizes("search.js");
const results = [];
for (const [i, q] of queries.entries()) {
  log = i === 0 ? [{ url: "/search.js", raw: js.raw, gzip: js.gzip }] : [];
  const r = await search(q);
  const top = r.hits.slice(0, 10).map((h) => h[0]);
  const chunks = [...new Set(top.map((id) => Math.floor(id / r.chunk)))];
  const records = await Promise.all(chunks.map((c) => get(`/search/r/${c}.json`)));
  const first = records.length ? records[chunks.indexOf(Math.floor(top[0] / r.chunk))][top[0] % r.chunk] : null;
  const raw = log.reduce((a, f) => a + f.raw, 0);
  const gzip = log.reduce((a, f) => a + f.gzip, 0);
  const what = i === 0 ? "first" : "later";
  console.log(`${what} query ${JSON.stringify(q)}: ${r.hits.length} results (top: ${first ? first[0] : "none"}); ` +
    `${log.length} files, ${(gzip / 1000).toFixed(1)} kB gzip, ${(raw / 1000).toFixed(1)} kB raw`);
  results.push({ query: q, when: what, results: r.hits.length, files: log, raw, gzip });
}
const later = results.slice(1);
const summary = {
  first_query_gzip: results[0].gzip,
  first_query_raw: results[0].raw,
  later_query_gzip_max: Math.max(0, ...later.map((r) => r.gzip)),
  later_query_raw_max: Math.max(0, ...later.map((r) => r.raw)),
  client_gzip: js.gzip,
  pagefind_first_query: 194000,
};
if (process.env.SEARCH_BYTES_FILES) for (const r of results) for (const f of r.files) console.log(r.query, f.url, f.raw, f.gzip);
console.log(JSON.stringify(summary));
