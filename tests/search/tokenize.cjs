// Runs the default theme's search client tokenizer over a JSON list of texts (argv[2])
// and prints, for each, its tokens as [term, kind] pairs: tests/search.rs compares them
// with the Rust tokenizer's.
"use strict";
const fs = require("fs");
const path = require("path");
const { tokenize } = require(path.join(__dirname, "../../themes/default/static/search.js"));
const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
process.stdout.write(JSON.stringify(cases.map((c) => tokenize(c.text).map((t) => [t.t, t.k]))));
