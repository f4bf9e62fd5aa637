/*
 * report.js - draws `memtrack report`'s page from the data it carries
 * (the JSON in #memtrack-data, written by analyzer/page.c): the summary,
 * the timeline, the sites, the flame graph, the leaks, the marks and the
 * processes.  No library, nothing fetched: the page must open from disk.
 *
 * Sites, flame graph and leaks share one filter: the kind of memory, and a
 * file glob with `--include`'s meaning (fnmatch without flags, matched
 * against a frame's source path as recorded and as displayed, or its
 * module when it has no source): each stack is attributed to its innermost
 * frame that matches, and stacks with none are left out.
 */
"use strict";

(function () {
	const D = JSON.parse(document.getElementById("memtrack-data").textContent);
	const S = D.summary;
	const FRAMES = D.frames; /* [name, display, file, module, line, cut] */
	const STACKS = D.stacks; /* [kind, frames, end size, end count, peak size, peak count,
				     allocated bytes, allocations, temporary bytes, temporaries] */
	const SVGNS = "http://www.w3.org/2000/svg";
	const KIND_HEAP = 1, KIND_MMAP = 2;
	const V = {endSize: 2, endCount: 3, peakSize: 4, peakCount: 5, allocSize: 6, allocs: 7,
		   tempSize: 8, temps: 9};
	const state = {kind: KIND_HEAP, glob: "", re: null, sort: "endSize", cost: "peak",
		       zoom: [], search: ""};

	/* --- helpers ---------------------------------------------------------- */

	function el(tag, attrs, ...children) {
		const e = document.createElement(tag);
		for (const [k, v] of Object.entries(attrs || {})) {
			if (v === null || v === undefined) continue;
			if (k === "class") e.className = v;
			else if (k === "text") e.textContent = v;
			else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
			else e.setAttribute(k, v);
		}
		for (const c of children) if (c !== null && c !== undefined)
			e.append(c instanceof Node ? c : String(c));
		return e;
	}

	function svg(tag, attrs) {
		const e = document.createElementNS(SVGNS, tag);
		for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
		return e;
	}

	/* Python's "%.Nf": the nearest, and on an exact tie the even one (toFixed
	 * takes the larger). */
	function fixed(v, d) {
		const m = Math.pow(10, d), t = Math.abs(v) * m;
		if (Number.isInteger(t * 2) && !Number.isInteger(t)) {
			let n = Math.floor(t);
			if (n % 2) n += 1;
			return (v < 0 ? "-" : "") + (n / m).toFixed(d);
		}
		return v.toFixed(d);
	}

	/* tracemalloc's _format_size(size, False) */
	function formatSize(size) {
		for (const unit of ["B", "KiB", "MiB", "GiB", "TiB"]) {
			if (Math.abs(size) < 100 && unit !== "B") return fixed(size, 1) + " " + unit;
			if (Math.abs(size) < 10 * 1024 || unit === "TiB") return fixed(size, 0) + " " + unit;
			size /= 1024;
		}
	}

	function commas(n) {
		return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
	}

	function seconds(t) {
		if (t >= 1) return fixed(t, 3) + " s";
		if (t >= 1e-3) return fixed(t * 1e3, 2) + " ms";
		return fixed(t * 1e6, 0) + " \u00b5s";
	}

	/* tracemalloc's Statistic line for a site */
	function statistic(site, size, count) {
		let s = site + ": size=" + formatSize(size) + ", count=" + count;
		if (count) s += ", average=" + formatSize(size / count);
		return s;
	}

	/* fnmatch(pattern, name, 0) as a RegExp: '*' and '?' match '/' too */
	function globRegExp(glob) {
		let re = "^";
		for (let i = 0; i < glob.length; i++) {
			const c = glob[i];
			if (c === "*") re += "[\\s\\S]*";
			else if (c === "?") re += "[\\s\\S]";
			else if (c === "\\" && i + 1 < glob.length) re += "\\" + glob[++i];
			else if (c === "[") {
				let j = i + 1;
				if (glob[j] === "!" || glob[j] === "^") j++;
				if (glob[j] === "]") j++;
				while (j < glob.length && glob[j] !== "]") j++;
				if (j >= glob.length) { re += "\\["; continue; }
				let body = glob.slice(i + 1, j).replace(/\\/g, "\\\\");
				if (body[0] === "!") body = "^" + body.slice(1);
				re += "[" + body + "]";
				i = j;
			} else re += c.replace(/[.+^${}()|\]\\/]/g, "\\$&");
		}
		return new RegExp(re + "$");
	}

	/* Does a frame pass the glob (filter.c's filter_frame with --include)? */
	function passes(f) {
		if (f[5]) return false;
		if (!state.re) return true;
		if (f[2]) return state.re.test(f[2]) || state.re.test(f[1]);
		return f[3] ? state.re.test(f[3]) : false;
	}

	/* The index of a stack's site among its frames (from the allocation site
	 * outward), -1 when no frame passes. */
	function siteOf(frames) {
		for (let i = 0; i < frames.length; i++) if (passes(FRAMES[frames[i]])) return i;
		return -1;
	}

	function kindOk(s) {
		return (s[0] & state.kind) !== 0;
	}

	function siteKey(f) {
		return f[1] + ":" + f[4];
	}

	/* --- header and summary ------------------------------------------------ */

	function header() {
		const h = el("header", {},
			el("h1", {id: "title", text: "memtrack report: " + D.command}),
			el("div", {class: "muted"}, "log ", el("code", {text: D.log}),
			   ", pid " + S.pid + ", traced for " + seconds(S.duration_s) + ", exit status " +
			   (S.exit_status === null ? "unknown" : S.exit_status) +
			   (S.exit_signal ? " (signal " + S.exit_signal + ")" : "")),
			el("nav", {},
			   ...["summary", "timeline", "sites", "flame", "leaks", "marks", "processes"].map(
				   id => el("a", {href: "#" + id + "-h", text: id === "flame" ? "flame graph" : id}))));
		document.body.append(h);
		if (S.truncated)
			document.body.append(el("p", {class: "warning",
				text: "The log is cut short: the report covers what was read."}));
	}

	function summary() {
		const rows = [
			["allocs", "allocations", false], ["frees", "frees", false],
			["bytes_allocated", "bytes allocated", true], ["peak_bytes", "heap peak", true],
			["leaked_bytes", "leaked at the end", true], ["leaked_count", "leaked blocks", false],
			["temporaries", "temporary allocations", false],
			["temporary_bytes", "temporary bytes", true],
			["mmap_calls", "mmap calls", false], ["mmap_peak_bytes", "mappings' peak", true],
			["mmap_live_bytes", "mapped at the end", true],
			["rss_peak_bytes", "RSS peak", true], ["events", "events", false],
			["mark_hits", "mark hits", false], ["unknown_frees", "unknown frees", false],
			["preexisting_frees", "preexisting frees", false],
		];
		const dl = el("dl");
		for (const [key, label, bytes] of rows) {
			const v = S[key];
			if (v === undefined || (!v && /^(unknown|preexisting)_frees$|^mark_hits$/.test(key))) continue;
			dl.append(el("div", {"data-key": key},
				el("dt", {text: label}),
				el("dd", {"data-value": v}, bytes ? formatSize(v) : commas(v),
				   bytes && v >= 1024 ? el("small", {text: " " + commas(v) + " B"}) : null)));
		}
		document.body.append(el("section", {id: "summary"},
			el("h2", {id: "summary-h", text: "Summary"}), dl));
	}

	/* --- the timeline -------------------------------------------------------- */

	const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

	/* Ticks at 1, 2, 2.5 or 5 times a power of ten of the unit, up to max. */
	function ticks(max, base, units) {
		let scale = 1, unit = units ? units[0] : "";
		if (base === 1024) {
			for (let i = 1; i < units.length && max >= 1024 * scale; i++) {
				scale *= 1024;
				unit = units[i];
			}
		} else if (max < 1e-3) {
			scale = 1e-6;
			unit = "\u00b5s";
		} else if (max < 1) {
			scale = 1e-3;
			unit = "ms";
		} else unit = "s";
		const raw = max / scale / 5, mag = Math.pow(10, Math.floor(Math.log10(raw || 1)));
		let step = 10 * mag;
		for (const n of [1, 2, 2.5, 5]) if (n * mag >= raw) { step = n * mag; break; }
		const out = [];
		for (let v = 0; v <= max / scale * (1 + 1e-9); v += step)
			out.push([v * scale, v === 0 ? "0" : +v.toPrecision(6) + " " + unit]);
		return out;
	}

	function timeline() {
		const T = D.timeline, n = T.t.length;
		const sec = el("section", {id: "timeline"},
			el("h2", {id: "timeline-h", text: "Memory over time"}));
		document.body.append(sec);
		if (!n) {
			sec.append(el("p", {class: "empty", text: "The log has no event."}));
			return;
		}
		const W = 1000, L = 78, R = 16, B = 34, ROWS = 8;
		const end = Math.max(T.end, T.t[n - 1]) || 1;
		const X = t => L + t / end * (W - L - R);
		/* the marks' numbers, on rows where they would overlap: as many
		 * rows above the chart as they need, up to ROWS (past that a
		 * mark keeps its dashed line and its title only) */
		const rowEnds = [], labelRow = [];
		for (const [t, label] of T.marks) {
			const x = X(t), w = label.split(" ")[0].length * 6.2 + 4;
			let row = rowEnds.findIndex(e => e < x - w / 2 - 2);
			if (row < 0 && rowEnds.length < ROWS) { row = rowEnds.length; rowEnds.push(0); }
			if (row >= 0) rowEnds[row] = x + w / 2;
			labelRow.push(row);
		}
		const TOP = 8 + 12 * Math.max(2, rowEnds.length), H = 290 + TOP;
		let ymax = 1;
		for (let i = 0; i < n; i++)
			ymax = Math.max(ymax, T.heap[i] + T.anon[i] + T.file[i], T.rss[i] || 0);
		ymax *= 1.05;
		const Y = v => H - B - v / ymax * (H - TOP - B);
		const chart = svg("svg", {viewBox: "0 0 " + W + " " + H, id: "tl-svg", role: "img"});
		for (const [v, text] of ticks(ymax, 1024, UNITS)) {
			chart.append(svg("line", {x1: L, x2: W - R, y1: Y(v), y2: Y(v), stroke: "#eceef1"}));
			const t = svg("text", {x: L - 6, y: Y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#555"});
			t.textContent = text;
			chart.append(t);
		}
		for (const [v, text] of ticks(end, 1000)) {
			const t = svg("text", {x: X(v), y: H - B + 16, "text-anchor": "middle", "font-size": 11, fill: "#555"});
			t.textContent = text;
			chart.append(t);
		}
		/* stacked areas as steps: a value holds until the next moment, and
		 * the last one to the end of the run */
		const series = [["heap", "heap (malloc family)", "--heap"], ["anon", "anonymous mmap", "--anon"],
				["file", "file mmap", "--file"]];
		const base = new Array(n).fill(0);
		for (const [key, , color] of series) {
			const top = base.map((b, i) => b + T[key][i]);
			let d = "M" + X(T.t[0]) + " " + Y(base[0]);
			for (let i = 0; i < n; i++) {
				if (i) d += "L" + X(T.t[i]) + " " + Y(top[i - 1]);
				d += "L" + X(T.t[i]) + " " + Y(top[i]);
			}
			d += "L" + X(end) + " " + Y(top[n - 1]) + "L" + X(end) + " " + Y(base[n - 1]);
			for (let i = n - 1; i >= 0; i--) {
				d += "L" + X(T.t[i]) + " " + Y(base[i]);
				if (i) d += "L" + X(T.t[i]) + " " + Y(base[i - 1]);
			}
			const css = getComputedStyle(document.documentElement).getPropertyValue(color).trim();
			chart.append(svg("path", {d: d + "Z", fill: css, "fill-opacity": 0.35, stroke: css,
						  "stroke-width": 1, class: "area", "data-name": key}));
			for (let i = 0; i < n; i++) base[i] = top[i];
		}
		let rss = "", pen = false;
		for (let i = 0; i < n; i++) {
			if (T.rss[i] === null) { pen = false; continue; }
			if (pen) rss += "L" + X(T.t[i]) + " " + Y(T.rss[i - 1]);
			rss += (pen ? "L" : "M") + X(T.t[i]) + " " + Y(T.rss[i]);
			pen = true;
		}
		if (pen) rss += "L" + X(end) + " " + Y(T.rss[n - 1]);
		if (rss)
			chart.append(svg("path", {d: rss, fill: "none", stroke: "#7b3fa0", "stroke-width": 2,
						  class: "rss"}));
		chart.append(svg("line", {x1: L, x2: L, y1: TOP, y2: H - B, stroke: "#333"}));
		chart.append(svg("line", {x1: L, x2: W - R, y1: H - B, y2: H - B, stroke: "#333"}));
		/* marks: dashed lines, their numbers on the rows found above */
		for (let i = 0; i < T.marks.length; i++) {
			const [t, label] = T.marks[i], x = X(t), short = label.split(" ")[0];
			const row = labelRow[i];
			const line = svg("line", {x1: x, x2: x, y1: TOP, y2: H - B, stroke: "#555",
						  "stroke-dasharray": "4 3", class: "mark"});
			const lineTitle = svg("title");
			lineTitle.textContent = label;
			line.append(lineTitle);
			chart.append(line);
			if (row < 0) continue;
			const tx = svg("text", {x: x, y: TOP - 4 - 12 * row, "text-anchor": "middle",
						"font-size": 10, fill: "#444", class: "mark-label"});
			tx.textContent = short;
			const title = svg("title");
			title.textContent = label;
			tx.append(title);
			chart.append(tx);
		}
		if (T.peak !== null) {
			const p = T.peak;
			const dot = svg("circle", {cx: X(T.t[p]), cy: Y(T.heap[p] + T.anon[p] + T.file[p]), r: 5,
						  fill: "#d62728", stroke: "white", "stroke-width": 1.5, id: "tl-peak"});
			const title = svg("title");
			title.textContent = "peak " + formatSize(T.heap[p] + T.anon[p] + T.file[p]) + " at " + seconds(T.t[p]);
			dot.append(title);
			chart.append(dot);
		}
		const cursor = svg("line", {y1: TOP, y2: H - B, stroke: "#222", "stroke-width": 1,
					    visibility: "hidden", id: "tl-cursor"});
		chart.append(cursor);
		const plot = svg("rect", {x: L, y: TOP, width: W - L - R, height: H - TOP - B,
					  fill: "transparent", id: "tl-plot"});
		chart.append(plot);
		const tip = el("div", {id: "tl-tip", hidden: ""});
		/* the moment under the pointer: the last one at or before its time */
		function at(t) {
			let lo = 0, hi = n - 1, found = -1;
			while (lo <= hi) {
				const mid = (lo + hi) >> 1;
				if (T.t[mid] <= t) { found = mid; lo = mid + 1; } else hi = mid - 1;
			}
			return found;
		}
		plot.addEventListener("mousemove", ev => {
			const r = plot.getBoundingClientRect();
			const frac = Math.min(1, Math.max(0, (ev.clientX - r.left) / r.width));
			/* the last pixel is the run's end, whatever events share its time
			 * (the log's times are in steps: 10 ms by default) */
			const t = ev.clientX >= r.right - 1 ? end : frac * end, i = at(t);
			const v = i < 0 ? {heap: 0, anon: 0, file: 0, rss: null} :
				{heap: T.heap[i], anon: T.anon[i], file: T.file[i], rss: T.rss[i]};
			const mark = T.marks.filter(m => Math.abs(X(m[0]) - X(t)) < 4).map(m => m[1]);
			tip.replaceChildren(
				el("div", {}, el("b", {text: seconds(t)}), mark.length ? " \u2014 " + mark.join(", ") : ""),
				...[["heap", "heap", "--heap"], ["anon", "anonymous mmap", "--anon"],
				    ["file", "file mmap", "--file"]].map(([k, name, c]) => el("div", {},
					el("span", {class: "swatch", style: "background:var(" + c + ")"}),
					name + ": " + formatSize(v[k]))),
				el("div", {}, el("span", {class: "swatch", style: "background:var(--rss)"}),
				   "RSS: " + (v.rss === null ? "not sampled yet" : formatSize(v.rss))));
			for (const k of ["heap", "anon", "file"]) tip.dataset[k] = v[k];
			tip.dataset.rss = v.rss === null ? "" : v.rss;
			tip.dataset.t = t;
			tip.hidden = false;
			const box = sec.getBoundingClientRect();
			const left = ev.clientX - box.left + 14;
			tip.style.left = Math.min(left, box.width - 230) + "px";
			tip.style.top = (ev.clientY - box.top + 14) + "px";
			cursor.setAttribute("x1", X(t));
			cursor.setAttribute("x2", X(t));
			cursor.setAttribute("visibility", "visible");
		});
		plot.addEventListener("mouseleave", () => {
			tip.hidden = true;
			cursor.setAttribute("visibility", "hidden");
		});
		const legend = el("div", {class: "legend"},
			...series.map(([, name, c]) => el("span", {}, el("i", {style: "background:var(" + c + ");opacity:.5"}), name)),
			el("span", {}, el("i", {style: "background:var(--rss)"}), "RSS"),
			T.marks.length ? el("span", {text: "\u2506 marks"}) : null,
			T.peak !== null ? el("span", {}, el("i", {style: "background:var(--peak);border-radius:6px"}),
				"peak") : null);
		sec.append(chart, legend, tip);
	}

	/* --- sites ---------------------------------------------------------------- */

	const COLUMNS = [
		["endSize", "live at end", true], ["endCount", "count", false],
		["peakSize", "at peak", true], ["peakCount", "count", false],
		["allocSize", "allocated", true], ["allocs", "allocations", false],
		["temps", "temporary", false],
	];
	const MAX_ROWS = 500;

	function sites() {
		const by = new Map();
		for (const s of STACKS) {
			if (!kindOk(s)) continue;
			const i = siteOf(s[1]);
			if (i < 0) continue;
			const f = FRAMES[s[1][i]], key = siteKey(f);
			let row = by.get(key);
			if (!row) {
				row = {key: key, fn: f[0] === f[1] ? "" : f[0]};
				for (const k in V) row[k] = 0;
				by.set(key, row);
			}
			for (const k in V) row[k] += s[V[k]];
		}
		const rows = [...by.values()];
		/* the chosen column, then as tracemalloc sorts: size, count, key */
		const key = state.sort;
		rows.sort((a, b) => b[key] - a[key] || b.endSize - a.endSize || b.endCount - a.endCount ||
			  (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
		const tbody = el("tbody");
		for (const r of rows.slice(0, MAX_ROWS)) {
			tbody.append(el("tr", {},
				el("td", {class: "site", text: r.key}),
				el("td", {class: "fn", text: r.fn}),
				...COLUMNS.map(([k, , bytes]) => el("td", {class: "num", "data-key": k, "data-value": r[k]},
					bytes ? formatSize(r[k]) : commas(r[k])))));
		}
		const thead = el("thead", {}, el("tr", {},
			el("th", {text: "site"}), el("th", {text: "function"}),
			...COLUMNS.map(([k, name]) => el("th", {class: "num" + (k === key ? " sorted" : ""),
				"data-sort": k, onclick: () => { state.sort = k; sites(); }}, name))));
		const table = el("table", {id: "sites-table"}, thead, tbody);
		const none = state.kind === KIND_HEAP ? "Nothing was allocated on the heap." :
			state.kind === KIND_MMAP ? "The program mapped nothing itself." : "Nothing was allocated or mapped.";
		const note = rows.length ? (rows.length > MAX_ROWS ? (rows.length - MAX_ROWS) + " more sites not shown" : "")
			: state.re ? "No allocation site passes the filter." : none;
		document.getElementById("sites-body").replaceChildren(table,
			note ? el("p", {class: "empty", id: "sites-note", text: note}) : "");
	}

	/* --- the flame graph ------------------------------------------------------- */

	const COSTS = {
		peak: ["live at the peak (bytes)", V.peakSize, true],
		leaked: ["leaked: live at the end (bytes)", V.endSize, true],
		allocated: ["allocated (bytes)", V.allocSize, true],
		allocations: ["allocations", V.allocs, false],
		temporary: ["temporary allocations", V.temps, false],
	};

	function tree() {
		const col = COSTS[state.cost][1];
		const root = {name: "all", value: 0, children: new Map(), where: ""};
		for (const s of STACKS) {
			const v = s[col];
			if (!v || !kindOk(s)) continue;
			const site = siteOf(s[1]);
			if (site < 0) continue;
			root.value += v;
			let node = root;
			for (let i = s[1].length - 1; i >= site; i--) {
				const f = FRAMES[s[1][i]];
				let c = node.children.get(f[0]);
				if (!c) {
					c = {name: f[0], value: 0, children: new Map(),
					     where: f[2] ? f[1] + ":" + f[4] : (f[3] || "")};
					node.children.set(f[0], c);
				}
				c.value += v;
				node = c;
			}
		}
		return root;
	}

	function color(name) {
		let h = 0;
		for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
		return "hsl(" + (10 + h % 40) + ", " + (70 + (h >> 8) % 20) + "%, " + (58 + (h >> 16) % 14) + "%)";
	}

	function flame() {
		const [label, , bytes] = COSTS[state.cost];
		const root = tree();
		const box = document.getElementById("flame");
		const fmt = v => bytes ? formatSize(v) : commas(v);
		let searchRe = null;
		if (state.search) {
			try { searchRe = new RegExp(state.search); } catch (e) {
				searchRe = new RegExp(state.search.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
			}
		}
		/* the zoomed node: the path of names from the root */
		let focus = root;
		const path = [root];
		for (const name of state.zoom) {
			const c = focus.children.get(name);
			if (!c) break;
			focus = c;
			path.push(c);
		}
		const ROW = 18, frames = [];
		let depth = 0;
		function frame(node, x, w, d, dim, names) {
			const pct = root.value ? 100 * node.value / root.value : 0;
			const div = el("div", {class: "frame" + (dim ? " dim" : ""),
				"data-name": node.name, "data-value": node.value, "data-depth": d,
				title: node.name + (node.where ? " (" + node.where + ")" : "") + "\n" + fmt(node.value) +
					", " + fixed(pct, 2) + "% of " + label,
				style: "left:" + (x * 100) + "%;width:" + (w * 100) + "%;top:" + (d * ROW) + "px;background:" +
					(node === root ? "#e9c46a" : color(node.name))}, node.name);
			if (searchRe && node !== root && searchRe.test(node.name)) div.classList.add("match");
			div.addEventListener("click", () => { state.zoom = names; flame(); });
			frames.push(div);
			depth = Math.max(depth, d + 1);
		}
		/* the root and the path to the zoomed node, full width */
		for (let d = 0; d < path.length; d++)
			frame(path[d], 0, 1, d, d < path.length - 1, state.zoom.slice(0, d));
		const total = box.clientWidth || 1000;
		function children(node, x, w, d, names) {
			let cx = x;
			const kids = [...node.children.values()].sort((a, b) => b.value - a.value || (a.name < b.name ? -1 : 1));
			for (const c of kids) {
				const cw = w * c.value / node.value;
				if (cw * total >= 1) {
					const n2 = names.concat([c.name]);
					frame(c, cx, cw, d, false, n2);
					children(c, cx, cw, d + 1, n2);
				}
				cx += cw;
			}
		}
		if (focus.value) children(focus, 0, 1, path.length, state.zoom.slice(0, path.length - 1));
		box.replaceChildren(...frames);
		box.style.height = (depth * ROW + 2) + "px";
		/* what the search matched: each match once, not again inside another */
		let matched = 0;
		(function sum(node) {
			if (searchRe && node !== root && searchRe.test(node.name)) { matched += node.value; return; }
			for (const c of node.children.values()) sum(c);
		})(root);
		const info = document.getElementById("flame-info");
		info.textContent = !root.value ? "Nothing to show for " + label + " with this filter." :
			label + ": " + fmt(root.value) + " in all" +
			(path.length > 1 ? "; zoomed on " + focus.name + ": " + fmt(focus.value) : "") +
			(searchRe ? "; matched: " + fmt(matched) + " (" + fixed(100 * matched / root.value, 2) + "%)" : "");
		info.dataset.matched = matched;
		info.dataset.total = root.value;
	}

	/* --- leaks ------------------------------------------------------------------ */

	const MAX_LEAKS = 100;

	function leaks() {
		const by = new Map();
		for (const s of STACKS) {
			if (s[0] !== KIND_HEAP || !s[V.endCount]) continue;
			const site = siteOf(s[1]);
			if (site < 0) continue;
			const frames = s[1].slice(site), key = frames.map(i => siteKey(FRAMES[i])).join("\n");
			let g = by.get(key);
			if (!g) { g = {frames: frames, size: 0, count: 0}; by.set(key, g); }
			g.size += s[V.endSize];
			g.count += s[V.endCount];
		}
		const list = [...by.values()].sort((a, b) => b.size - a.size || b.count - a.count);
		const body = document.getElementById("leaks-body");
		if (!list.length) {
			body.replaceChildren(el("p", {class: "empty", text: S.leaked_count ?
				"No leaked block passes the filter." : "No leaks: every heap block was freed by the end of the log."}));
			return;
		}
		body.replaceChildren(...list.slice(0, MAX_LEAKS).map(g => {
			/* as `memtrack leaks` prints it: the oldest frame first */
			const lines = [];
			for (let i = g.frames.length - 1; i >= 0; i--) {
				const f = FRAMES[g.frames[i]];
				lines.push(f[5] ? "  ... (stack cut at --depth " + f[5] + ")" : '  File "' + f[1] + '", line ' + f[4]);
			}
			return el("details", {class: "leak", "data-size": g.size, "data-count": g.count},
				el("summary", {text: statistic(siteKey(FRAMES[g.frames[0]]), g.size, g.count)}),
				el("pre", {text: lines.join("\n")}));
		}), list.length > MAX_LEAKS ? el("p", {class: "empty", text: (list.length - MAX_LEAKS) + " more not shown"}) : "");
	}

	/* --- marks, processes --------------------------------------------------------- */

	function table(id, heads, rows) {
		return el("table", {id: id},
			el("thead", {}, el("tr", {}, ...heads.map(h => el("th", {class: h[1] ? "num" : "", text: h[0]})))),
			el("tbody", {}, ...rows.map(r => el("tr", {}, ...r.map((c, i) =>
				el("td", {class: heads[i][1] ? "num" : "", text: c}))))));
	}

	function marksAndProcesses() {
		const m = el("section", {id: "marks"}, el("h2", {id: "marks-h", text: "Marks"}));
		m.append(S.marks && S.marks.length ? table("marks-table",
			[["mark", 1], ["location", 0], ["hits", 1], ["first", 0], ["first at", 1]],
			S.marks.map(k => [k.mark, k.location || "?", commas(k.hits), k.first, seconds(k.first_s)])) :
			el("p", {class: "empty", text: "No mark was hit (memtrack run --mark LOCATION records them)."}));
		const p = el("section", {id: "processes"}, el("h2", {id: "processes-h", text: "Processes"}));
		p.append(table("processes-table",
			[["pid", 1], ["parent", 1], ["command", 0], ["allocs", 1], ["frees", 1], ["bytes allocated", 1],
			 ["exit status", 1]],
			(S.processes || []).map(q => [q.pid, q.parent || "", q.command, commas(q.allocs), commas(q.frees),
						    commas(q.bytes_allocated), q.exit_status === null ? "" : q.exit_status])));
		document.body.append(m, p);
	}

	/* --- the page ------------------------------------------------------------------ */

	function refresh() {
		sites();
		flame();
		leaks();
	}

	function filters() {
		const glob = el("input", {type: "text", id: "glob", placeholder: "e.g. samples/*  (as --include)",
					  spellcheck: "false"});
		glob.addEventListener("input", () => {
			state.glob = glob.value.trim();
			state.re = state.glob ? globRegExp(state.glob) : null;
			state.zoom = [];
			refresh();
		});
		const kind = el("select", {id: "kind"},
			el("option", {value: KIND_HEAP, text: "heap"}), el("option", {value: KIND_MMAP, text: "mmap"}),
			el("option", {value: KIND_HEAP | KIND_MMAP, text: "heap and mmap"}));
		kind.addEventListener("change", () => { state.kind = +kind.value; state.zoom = []; refresh(); });
		return el("div", {class: "controls", id: "filters"},
			el("label", {}, "memory ", kind), el("label", {}, "file glob ", glob));
	}

	function build() {
		header();
		summary();
		timeline();
		const sec = el("section", {id: "sites"}, el("h2", {id: "sites-h", text: "Allocation sites"}),
			el("p", {class: "muted", text: "Each stack counts at its innermost frame that passes the glob " +
				"(all frames when it is empty), as memtrack top --include does. Live at the end and at " +
				"the peak (" + (D.peak.seen ? seconds(D.peak.time_s) + ", event #" + D.peak.event +
				", heap and mappings at their highest" : "nothing was ever live") + "), allocated and " +
				"temporary up to the end. Click a column to sort."}),
			filters(), el("div", {id: "sites-body"}));
		const cost = el("select", {id: "flame-cost"},
			...Object.entries(COSTS).map(([k, v]) => el("option", {value: k, text: v[0]})));
		cost.addEventListener("change", () => { state.cost = cost.value; state.zoom = []; flame(); });
		const search = el("input", {type: "text", id: "flame-search", placeholder: "function (regular expression)",
					    spellcheck: "false"});
		search.addEventListener("input", () => { state.search = search.value; flame(); });
		const reset = el("button", {id: "flame-reset", text: "reset zoom",
					    onclick: () => { state.zoom = []; flame(); }});
		const fl = el("section", {id: "flame-section"},
			el("h2", {id: "flame-h", text: "Flame graph"}),
			el("div", {class: "controls"}, el("label", {}, "cost ", cost), el("label", {}, "search ", search), reset),
			el("div", {id: "flame-info"}),
			el("div", {id: "flame-box"}, el("div", {id: "flame"})),
			el("p", {class: "muted", text: "The root at the top, each stack down to its allocation site; " +
				"click a frame to zoom on it, a frame above it to zoom out."}));
		const lk = el("section", {id: "leaks"}, el("h2", {id: "leaks-h", text: "Leaks"}),
			el("p", {class: "muted", text: "Heap blocks still live at the end, by traceback, biggest first " +
				"(memtrack leaks)."}), el("div", {id: "leaks-body"}));
		document.body.append(sec, fl, lk);
		marksAndProcesses();
		refresh();
		window.addEventListener("resize", flame);
		document.body.dataset.ready = "1";
	}

	build();
})();
