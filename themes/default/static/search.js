/* sitrep search. Plain script, no dependencies, no eval, no HTML strings: every piece of
 * text goes into the page as a text node. The tokenizer below must agree with sitrep's
 * src/render/search/tokenizer.rs rule for rule (tests/search.rs runs both). */
(function () {
  "use strict";

  var MAX_CHARS = 128;
  var STOP = new Set(("a an and are as at be but by for from has have in is it its of on or " +
    "that the this to was were will with").split(" "));
  var WORD = /[\p{L}\p{M}\p{N}]/u;

  function isJoiner(c) { return ".-_:/\\@".indexOf(c) >= 0; }
  function isCjk(u) {
    return (u >= 0x3005 && u <= 0x3007) || (u >= 0x3021 && u <= 0x3029) ||
      (u >= 0x3038 && u <= 0x303B) || (u >= 0x3041 && u <= 0x309F) ||
      (u >= 0x30A1 && u <= 0x30FA) || (u >= 0x30FC && u <= 0x30FF) ||
      (u >= 0x3131 && u <= 0x318E) || (u >= 0x31F0 && u <= 0x31FF) ||
      (u >= 0x3400 && u <= 0x4DBF) || (u >= 0x4E00 && u <= 0x9FFF) ||
      (u >= 0xF900 && u <= 0xFAFF) || (u >= 0xFF66 && u <= 0xFF9F) ||
      (u >= 0x1100 && u <= 0x11FF) || (u >= 0xAC00 && u <= 0xD7AF) ||
      (u >= 0x20000 && u <= 0x3FFFF);
  }
  function chars(s) { return Array.from(s).length; }
  function allDigits(s) { return /^[0-9]+$/.test(s); }
  function isAttack(s) { return /^t[0-9]{4}$/.test(s); }

  function stem(w) {
    if (!/^[a-z]{4,}$/.test(w)) return w;
    var s = w, m;
    if (/ies$/.test(s) && s.length - 3 >= 3) s = s.slice(0, -3);
    else if (/sses$/.test(s)) s = s.slice(0, -2);
    else if (/s$/.test(s) && !/(ss|us|is)$/.test(s)) s = s.slice(0, -1);
    var suffixes = ["ation", "ing", "ed", "er", "e", "y"];
    for (var i = 0; i < suffixes.length; i++) {
      m = suffixes[i];
      if (s.slice(-m.length) === m && s.length - m.length >= 3) return s.slice(0, -m.length);
    }
    return s;
  }

  /* Tokens of `text`: {t: term, k: "word" | "exact", s, e: the run's offsets in text}. */
  function tokenize(text) {
    var out = [];
    var run = "", runStart = 0, runEnd = 0, cjk = [];
    function emit(t, k, s, e) { out.push({ t: t, k: k, s: s, e: e }); }
    function word(w, s, e) {
      var n = chars(w);
      if (n > MAX_CHARS) return;
      if (allDigits(w) || isAttack(w)) { emit(w, "exact", s, e); return; }
      if (n === 1 || STOP.has(w)) return;
      emit(stem(w), "word", s, e);
    }
    function readRun(r, s, e) {
      var lead = r.length - r.replace(/^[.\-_:/\\@]+/, "").length;
      var t = r.replace(/^[.\-_:/\\@]+/, "").replace(/[.\-_:/\\@]+$/, "");
      if (!t) return;
      s += lead;
      e = s + t.length;
      if (!/[.\-_:/\\@]/.test(t)) { word(t, s, e); return; }
      var cve = /^cve-([0-9]{4}-[0-9]{4,7})$/.exec(t);
      if (cve) { emit(t, "exact", s, e); emit(cve[1], "exact", s, e); return; }
      if (/^t[0-9]{4}\.[0-9]{3}$/.test(t)) {
        emit(t, "exact", s, e); emit(t.slice(0, 5), "exact", s, e); return;
      }
      if (chars(t) <= MAX_CHARS) emit(t, "exact", s, e);
      if (/[_:/\\@]/.test(t)) {
        var at = s;
        t.split(/[_:/\\@]/).forEach(function (piece) {
          readRun(piece, at, at + piece.length);
          at += piece.length + 1;
        });
      } else {
        t.split(/[-.]/).forEach(function (part) {
          if (part && !allDigits(part)) word(part, s, e);
        });
      }
    }
    function flushRun() {
      if (run) readRun(run, runStart, runEnd);
      run = "";
    }
    function flushCjk() {
      if (cjk.length === 1) emit(cjk[0].c, "word", cjk[0].s, cjk[0].e);
      for (var i = 0; i + 1 < cjk.length; i++) {
        emit(cjk[i].c + cjk[i + 1].c, "exact", cjk[i].s, cjk[i + 1].e);
      }
      cjk = [];
    }
    for (var i = 0; i < text.length;) {
      var u = text.codePointAt(i), len = u > 0xFFFF ? 2 : 1;
      if (u >= 0xFF01 && u <= 0xFF5E) u -= 0xFEE0;
      var c = String.fromCodePoint(u);
      if (u < 128) {
        if (cjk.length) flushCjk();
        if (/[0-9A-Za-z]/.test(c) || isJoiner(c)) {
          if (!run) runStart = i;
          run += c.toLowerCase();
          runEnd = i + len;
        } else if (run) flushRun();
      } else if (isCjk(u)) {
        if (run) flushRun();
        cjk.push({ c: c, s: i, e: i + len });
      } else {
        if (cjk.length) flushCjk();
        if (WORD.test(c)) {
          if (!run) runStart = i;
          run += c.toLowerCase();
          runEnd = i + len;
        } else if (run) flushRun();
      }
      i += len;
    }
    flushRun();
    flushCjk();
    return out;
  }

  function hex(s) {
    return Array.from(new TextEncoder().encode(s), function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
  }

  /* The index of the last shard whose first term is <= t (-1 when none). */
  function shardOf(keys, t) {
    var lo = 0, hi = keys.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (keys[mid] <= t) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  }

  /* The query's distinct terms, each with whether it matches by prefix. */
  function queryTerms(q) {
    var seen = new Set(), terms = [];
    tokenize(q).forEach(function (tok) {
      if (seen.has(tok.t)) return;
      seen.add(tok.t);
      var prefix = tok.k === "word" && (chars(tok.t) >= 3 || isCjk(tok.t.codePointAt(0)));
      terms.push({ t: tok.t, prefix: prefix });
    });
    return terms;
  }

  /* For one query term: post id -> score, from the shards it may be in. */
  function best(m, term, shards) {
    var out = new Map();
    shards.forEach(function (entries) {
      entries.forEach(function (e) {
        var name = e[0], exact = name === term.t;
        if (!exact && !(term.prefix && name.slice(0, term.t.length) === term.t)) return;
        var df = e[1], p = e[2], id = 0;
        var idf = Math.log(1 + (m.posts - df + 0.5) / (df + 0.5)) * (exact ? 1 : 0.7);
        for (var j = 0; j < p.length; j += 2) {
          id += p[j];
          var s = idf * p[j + 1];
          if (!(out.get(id) >= s)) out.set(id, s);
        }
      });
    });
    return out;
  }

  /* A search over the index at `manifestUrl`, fetching files with `get(url)` (a promise of
   * the parsed JSON): `search(q)` gives {hits: [[post id, score]…] best first, terms, chunk}. */
  function searcher(manifestUrl, get) {
    var dir = manifestUrl.slice(0, manifestUrl.lastIndexOf("/") + 1);
    function scores(m, term) {
      var keys = m.shards, first = shardOf(keys, term.t), wanted = [];
      if (term.prefix) {
        for (var i = Math.max(first, 0); i < keys.length && wanted.length < 4; i++) {
          if (i > Math.max(first, 0) && keys[i].slice(0, term.t.length) !== term.t) break;
          wanted.push(i);
        }
      } else if (first >= 0) wanted.push(first);
      return Promise.all(wanted.map(function (i) {
        return get(dir + "s/k" + hex(keys[i]) + ".json");
      })).then(function (shards) { return best(m, term, shards); });
    }
    return function search(q) {
      var terms = queryTerms(q);
      if (!terms.length) return Promise.resolve({ hits: [], terms: terms });
      return get(manifestUrl).then(function (m) {
        return Promise.all(terms.map(function (t) { return scores(m, t); })).then(function (maps) {
          maps.sort(function (a, b) { return a.size - b.size; });
          var hits = [];
          maps[0].forEach(function (s, id) {
            for (var k = 1; k < maps.length; k++) {
              var x = maps[k].get(id);
              if (x === undefined) return;
              s += x;
            }
            hits.push([id, s]);
          });
          hits.sort(function (a, b) { return b[1] - a[1] || b[0] - a[0]; });
          return { hits: hits, terms: terms, chunk: m.chunk };
        });
      });
    };
  }

  if (typeof module !== "undefined" && module.exports) {
    module.exports = { tokenize: tokenize, searcher: searcher };
  }
  if (typeof document === "undefined") return;

  var form = document.querySelector("[data-search]");
  if (!form || !window.fetch) return;
  var input = form.querySelector("input[name=q]");
  var list = document.querySelector("[data-search-results]");
  var status = document.querySelector("[data-search-status]");
  var more = document.querySelector("[data-search-more]");
  var manifestUrl = form.getAttribute("data-search-index");
  var dir = manifestUrl.slice(0, manifestUrl.lastIndexOf("/") + 1);
  var search = searcher(manifestUrl, get);
  var PAGE = 10;
  var cache = new Map();
  var seq = 0;
  var shown = { hits: [], terms: [], count: 0 };
  var dateFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined,
    { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });

  document.querySelectorAll("[data-search-fallback]").forEach(function (el) { el.hidden = true; });

  function get(url) {
    if (!cache.has(url)) {
      cache.set(url, fetch(url).then(function (r) {
        if (!r.ok) throw new Error(url + ": " + r.status);
        return r.json();
      }).catch(function (e) { cache.delete(url); throw e; }));
    }
    return cache.get(url);
  }

  /* `text` with the words that match the query in <mark>, as DOM nodes. */
  function marked(text, terms) {
    var frag = document.createDocumentFragment(), ranges = [];
    tokenize(text).forEach(function (tok) {
      var hit = terms.some(function (q) {
        return tok.t === q.t || (q.prefix && tok.t.slice(0, q.t.length) === q.t);
      });
      if (hit) ranges.push([tok.s, tok.e]);
    });
    ranges.sort(function (a, b) { return a[0] - b[0]; });
    var at = 0;
    ranges.forEach(function (r) {
      if (r[1] <= at) return;
      var s = Math.max(r[0], at);
      if (s > at) frag.appendChild(document.createTextNode(text.slice(at, s)));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(s, r[1]);
      frag.appendChild(mark);
      at = r[1];
    });
    if (at < text.length) frag.appendChild(document.createTextNode(text.slice(at)));
    return frag;
  }

  function el(tag, cls, child) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (child) e.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    return e;
  }

  function item(rec, terms) {
    var li = el("li", "search-result");
    var h = el("h2", "search-title");
    var a = el("a", null, marked(rec[1], terms));
    a.href = rec[0];
    h.appendChild(a);
    li.appendChild(h);
    if (rec[2]) {
      var time = el("time", null, dateFormat.format(new Date(rec[2] + "T00:00:00Z")));
      time.dateTime = rec[2];
      li.appendChild(el("p", "meta", time));
    }
    if (rec[3].length) {
      var ul = el("ul", "search-tldr");
      rec[3].forEach(function (t) { ul.appendChild(el("li", null, marked(t, terms))); });
      li.appendChild(ul);
    }
    if (rec[4].length) {
      var tags = el("ul", "chips search-tags");
      tags.setAttribute("aria-label", "Tags");
      rec[4].forEach(function (t) { tags.appendChild(el("li", null, marked(t, terms))); });
      li.appendChild(tags);
    }
    return li;
  }

  /* Shows hits up to `count`, fetching the records they need. */
  function show(result, count, mine) {
    var ids = result.hits.slice(0, count).map(function (h) { return h[0]; });
    var chunks = Array.from(new Set(ids.map(function (id) { return Math.floor(id / result.chunk); })));
    return Promise.all(chunks.map(function (c) { return get(dir + "r/" + c + ".json"); }))
      .then(function (files) {
        if (mine !== seq) return;
        var byChunk = new Map();
        chunks.forEach(function (c, i) { byChunk.set(c, files[i]); });
        list.replaceChildren();
        ids.forEach(function (id) {
          var rec = byChunk.get(Math.floor(id / result.chunk))[id % result.chunk];
          if (rec) list.appendChild(item(rec, result.terms));
        });
        shown = { hits: result.hits, terms: result.terms, chunk: result.chunk, count: ids.length };
        more.hidden = result.hits.length <= ids.length;
      });
  }

  function say(text) { status.textContent = text; }

  function run(q) {
    var mine = ++seq;
    q = q.trim();
    var url = new URL(window.location.href);
    if (q) url.searchParams.set("q", q); else url.searchParams.delete("q");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
    if (!q) {
      list.replaceChildren();
      more.hidden = true;
      say("");
      return;
    }
    say("Searching…");
    search(q).then(function (result) {
      if (mine !== seq) return;
      var n = result.hits.length;
      return show(result, PAGE, mine).then(function () {
        if (mine !== seq) return;
        say(n === 0 ? "No results for “" + q + "”." :
          n + (n === 1 ? " result" : " results") + " for “" + q + "”.");
      });
    }).catch(function () {
      if (mine === seq) say("Search is not available right now. Try the tags or CVE pages.");
    });
  }

  var timer = 0;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { run(input.value); }, 120);
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    clearTimeout(timer);
    run(input.value);
  });
  more.addEventListener("click", function () {
    var mine = seq, before = shown.count;
    show(shown, shown.count + PAGE, mine).then(function () {
      var next = list.children[before];
      var link = next && next.querySelector("a");
      if (link) link.focus();
    });
  });
  var initial = new URLSearchParams(window.location.search).get("q");
  if (initial) {
    input.value = initial;
    run(initial);
  }
})();
