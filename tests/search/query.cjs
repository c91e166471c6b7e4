// Runs the default theme's search engine (search.js) in node over a built site's files:
//   node query.cjs <output dir> <query>…
// prints, for each query, the URLs of its results, best first (JSON).
"use strict";
const fs = require("fs");
const path = require("path");
const { searcher } = require(path.join(__dirname, "../../themes/default/static/search.js"));
const [out, ...queries] = process.argv.slice(2);
const get = (url) => Promise.resolve(JSON.parse(fs.readFileSync(path.join(out, url), "utf8")));
const search = searcher("/search/index.json", get);
(async () => {
  const all = [];
  for (const q of queries) {
    const r = await search(q);
    const urls = [];
    for (const [id] of r.hits) {
      const chunk = await get(`/search/r/${Math.floor(id / r.chunk)}.json`);
      urls.push(chunk[id % r.chunk][0]);
    }
    all.push(urls);
  }
  process.stdout.write(JSON.stringify(all));
})();
