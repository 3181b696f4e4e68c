// The HTML Statement of Applicability as a person sees it: each page is opened in Debian's
// headless Chromium (through playwright-core), checked through the DOM, screenshotted, and
// audited with axe-core. Run by .ci/html-check.sh, which writes the pages first.
//
//   node tests/html/check.mjs OUT_DIR kind=PAGE.html ...
//
// kinds: fixtures (the fixtures' page), hostile (data that tries to inject markup), history
// (a bundle with trends), org (the organisation heatmap; its repository pages are checked too).
// Needs ISMS_TOOLS/node_modules with playwright-core and axe-core, and /usr/bin/chromium
// (CHROMIUM to override). Exits 1 on the first failed expectation, after printing what it saw.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const tools = process.env.ISMS_TOOLS || "/tmp/isms-lint-tools";
const require = createRequire(path.join(tools, "node_modules", "noop.js"));
const { chromium } = require("playwright-core");
const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const [outDir, ...specs] = process.argv.slice(2);
if (!outDir || specs.length === 0) {
  console.error("usage: node tests/html/check.mjs OUT_DIR kind=PAGE.html ...");
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });

let failures = 0;
const expect = (ok, what) => {
  console.log(`  ${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures += 1;
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});

/** Opens a page with the page's own Content-Security-Policy in force and records everything
 * that would tell of a problem: console errors and warnings, uncaught errors, requests. */
async function open(file) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const seen = { console: [], errors: [], requests: [] };
  const url = pathToFileURL(path.resolve(file)).href;
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") seen.console.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => seen.errors.push(String(e)));
  page.on("request", (r) => { if (r.url() !== url) seen.requests.push(r.url()); });
  await page.goto(url, { waitUntil: "load" });
  return { context, page, seen, url };
}

const visibleSections = (page) =>
  page.$$eval("section.control", (s) => s.filter((x) => !x.hidden && x.offsetParent !== null).map((x) => ({
    id: x.getAttribute("data-id"), status: x.getAttribute("data-status"),
    theme: x.getAttribute("data-theme"), sev: (x.getAttribute("data-sev") || "").split(" ").filter(Boolean),
  })));

// The page re-applies the filters in a 0 ms timer after a reset: let that timer run first.
const settle = (page) => page.evaluate(() => new Promise((resolve) => window.setTimeout(resolve, 0)));

async function setFilters(page, { status = "", theme = "", severity = "", q = "" }) {
  await page.click("#filters button[type=reset]");
  await settle(page);
  if (status) await page.selectOption("#filters select[name=status]", status);
  if (theme) await page.selectOption("#filters select[name=theme]", theme);
  if (severity) await page.selectOption("#filters select[name=severity]", severity);
  if (q) await page.fill("#filters input[name=q]", q);
  await settle(page);
  return visibleSections(page);
}

async function common(kind, page, seen) {
  const cells = await page.$$eval("ul.grid a.cell", (c) => c.length);
  expect(cells === 93, `${kind}: ${cells} control cells in the overview grid (want 93)`);
  const sections = await page.$$eval("section.control", (c) => c.length);
  expect(sections === 93, `${kind}: ${sections} control sections (want 93)`);
  const themes = await page.$$eval("ul.grid", (g) => g.map((x) => x.children.length));
  expect(JSON.stringify(themes) === "[37,8,14,34]", `${kind}: cells per theme ${JSON.stringify(themes)} (want [37,8,14,34])`);
  const legend = await page.$$eval("#overview ul.legend li", (l) => l.map((x) => x.textContent.trim()));
  expect(legend.length === 7 && legend.every((t) => /^[FPUNM?X]\s*\S/.test(t)),
    `${kind}: legend of 7 statuses, each with its letter: ${legend.join(" | ")}`);
  const letters = await page.$$eval("ul.grid a.cell .sl", (l) => l.every((x) => x.textContent.trim().length === 1));
  expect(letters, `${kind}: every cell carries its status letter (readable without colour)`);
  const formShown = await page.$eval("#filters", (f) => !f.hidden);
  expect(formShown, `${kind}: the script ran (filter form shown)`);
}

async function finish(kind, opened) {
  const { page, seen, context } = opened;
  expect(seen.errors.length === 0, `${kind}: ${seen.errors.length} uncaught errors ${seen.errors.join("; ")}`);
  expect(seen.console.length === 0, `${kind}: ${seen.console.length} console errors or warnings ${seen.console.join("; ")}`);
  expect(seen.requests.length === 0, `${kind}: ${seen.requests.length} network requests besides the page ${seen.requests.slice(0, 5).join(", ")}`);
  await context.close();
}

/** axe-core in a context that lets its script in (the page's policy would refuse it). */
async function axe(kind, file) {
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(pathToFileURL(path.resolve(file)).href, { waitUntil: "load" });
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help,
      first: v.nodes[0] && v.nodes[0].target.join(" ") }));
  });
  await context.close();
  const serious = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  const byImpact = {};
  for (const v of result) byImpact[v.impact] = (byImpact[v.impact] || 0) + 1;
  console.log(`  axe: ${result.length} violation rule(s) ${JSON.stringify(byImpact)}`);
  for (const v of result) console.log(`    ${v.impact} ${v.id} (${v.nodes} nodes, e.g. ${v.first}): ${v.help}`);
  expect(serious.length === 0, `${kind}: axe-core reports ${serious.length} serious or critical violations`);
}

async function checkFixtures(file) {
  const o = await open(file);
  const { page } = o;
  await common("fixtures", page, o.seen);
  await page.screenshot({ path: path.join(outDir, "fixtures.png") });
  const all = await visibleSections(page);
  expect(all.length === 93, `fixtures: ${all.length} sections shown before filtering`);
  const failingCells = await page.$$eval("ul.grid a.cell[data-status=failing]", (c) => c.length);
  let v = await setFilters(page, { status: "failing" });
  expect(v.length === failingCells && v.every((s) => s.status === "failing"),
    `fixtures: status=failing shows ${v.length} sections, all failing (cells say ${failingCells})`);
  const dimmed = await page.$$eval("ul.grid a.cell.off", (c) => c.length);
  expect(dimmed === 93 - failingCells, `fixtures: ${dimmed} grid cells dimmed by the filter (want ${93 - failingCells})`);
  const out = await page.$eval("#shown", (o) => o.textContent);
  expect(out === `${failingCells} of 93 controls shown`, `fixtures: the form says "${out}"`);
  v = await setFilters(page, { theme: "physical" });
  expect(v.length === 14 && v.every((s) => s.theme === "physical"), `fixtures: theme=physical shows ${v.length} sections (want 14)`);
  v = await setFilters(page, { severity: "critical" });
  const critical = await page.$$eval("section.control", (s) => s.filter((x) => (x.getAttribute("data-sev") || "").split(" ").includes("critical")).length);
  expect(v.length === critical && v.length > 0 && v.every((s) => s.sev.includes("critical")),
    `fixtures: severity>=critical shows ${v.length} sections, each with a critical finding (want ${critical})`);
  const lower = await page.$$eval("section.control:not([hidden]) div.finding", (f) => f.filter((x) => !x.hidden && x.getAttribute("data-sev-item") !== "critical").length);
  expect(lower === 0, `fixtures: severity>=critical hides the ${lower === 0 ? "" : lower + " "}lower findings inside shown sections`);
  v = await setFilters(page, { severity: "high", status: "failing", theme: "technological" });
  expect(v.length > 0 && v.every((s) => s.theme === "technological" && s.status === "failing" && s.sev.some((x) => x === "high" || x === "critical")),
    `fixtures: three filters together show ${v.length} technological failing sections with high or critical findings`);
  v = await setFilters(page, { q: "k8s-container-privileged" });
  expect(v.some((s) => s.id === "8.2") && v.length < 93, `fixtures: search for a rule id shows ${v.length} sections incl. A.8.2`);
  v = await setFilters(page, { q: "clock synchron" });
  expect(v.length === 1 && v[0].id === "8.17", `fixtures: search "clock synchron" shows ${v.map((s) => s.id).join(",")} (want 8.17)`);
  v = await setFilters(page, {});
  expect(v.length === 93, `fixtures: "Show all" shows ${v.length} sections again`);
  const snippets = await page.$$eval("pre.src", (p) => p.length);
  expect(snippets > 0, `fixtures: ${snippets} source snippets shown`);
  await page.selectOption("#filters select[name=status]", "failing");
  await page.locator("section.control[data-status=failing] pre.src").first().scrollIntoViewIfNeeded();
  await page.evaluate(() => { const s = document.querySelector("section.control[data-status=failing]"); window.scrollTo(0, s.getBoundingClientRect().top + window.scrollY - 70); });
  await page.screenshot({ path: path.join(outDir, "fixtures-control.png") });
  await page.click("#filters button[type=reset]");
  const pdf = await page.pdf({ path: path.join(outDir, "fixtures.pdf"), format: "A4", printBackground: true });
  const pages = (pdf.toString("latin1").match(/\/Type\s*\/Page[^s]/g) || []).length;
  expect(pages > 5, `fixtures: prints to a ${pages}-page PDF (${Math.round(pdf.length / 1024)} KiB)`);
  await finish("fixtures", o);
  await axe("fixtures", file);
}

async function checkHostile(file) {
  const o = await open(file);
  const { page } = o;
  await common("hostile", page, o.seen);
  const pwned = await page.evaluate(() => window.__pwned);
  expect(pwned === undefined, `hostile: nothing injected ran (window.__pwned is ${pwned})`);
  const scripts = await page.$$eval("script", (s) => s.length);
  const imgs = await page.$$eval("img", (s) => s.length);
  expect(scripts === 1 && imgs === 0, `hostile: ${scripts} script element(s) (ours), ${imgs} img elements`);
  const text = await page.evaluate(() => document.body.innerText);
  expect(text.includes("<script>window.__pwned=1</script>"), "hostile: the message's markup is shown as text");
  await finish("hostile", o);
}

async function checkHistory(file) {
  const o = await open(file);
  const { page } = o;
  await common("history", page, o.seen);
  const points = await page.$$eval("#trends svg path[d^='M'] + circle, #trends svg circle", (c) => c.length);
  const rows = await page.$$eval("#trends table.history tbody tr", (r) => r.map((x) => x.className || "ok"));
  const rejected = rows.filter((r) => r === "rejected").length;
  const plotted = rows.length - rejected;
  // One circle per point of the first theme's series, plus one in the legend.
  expect(points === plotted + 1, `history: ${points - 1} points plotted for ${plotted} verified bundles (this run included)`);
  expect(plotted === 4 && rejected === 1, `history: ${plotted} plotted (3 earlier + this run), ${rejected} listed as failing verification`);
  const marks = await page.$$eval("section.control", (s) => s.map((x) => x.querySelectorAll("ol.marks li").length));
  expect(marks.length === 93 && marks.every((n) => n === 4), `history: every control shows ${marks[0]} status marks (want 4)`);
  const changing = await page.$$eval("section.control", (s) => s.map((x) => ({
    id: x.getAttribute("data-id"),
    marks: Array.from(x.querySelectorAll("ol.marks li"), (l) => l.querySelector("[aria-hidden]").textContent),
  })).filter((c) => new Set(c.marks).size > 1));
  expect(changing.length > 0, `history: ${changing.length} controls changed status over the bundles: ${changing.map((c) => `A.${c.id} ${c.marks.join("")}`).join(", ")}`);
  await page.locator("#trends").scrollIntoViewIfNeeded();
  await page.evaluate(() => window.scrollTo(0, document.getElementById("trends").getBoundingClientRect().top + window.scrollY - 10));
  await page.screenshot({ path: path.join(outDir, "history.png") });
  await finish("history", o);
  await axe("history", file);
}

async function checkOrg(file) {
  const o = await open(file);
  const { page } = o;
  await common("org", page, o.seen);
  const rows = await page.$$eval("#heat tbody tr", (r) => r.map((x) => ({
    name: x.getAttribute("data-name"), failing: Number(x.getAttribute("data-failing")),
    cells: x.querySelectorAll("td.hm").length, href: x.querySelector("a").getAttribute("href"),
    counted: x.querySelectorAll("td.hm.st-failing").length,
  })));
  expect(rows.length === 3 && rows.every((r) => r.cells === 93), `org: ${rows.length} repositories × ${rows[0] && rows[0].cells} controls in the heatmap`);
  expect(rows.every((r) => r.failing === r.counted), "org: each row's failing count matches its failing cells");
  const desc = rows.every((r, i) => i === 0 || rows[i - 1].failing >= r.failing);
  expect(desc, `org: ordered by failing controls first (${rows.map((r) => `${r.name}:${r.failing}`).join(", ")})`);
  await page.click("button[data-sort=name]");
  const byName = await page.$$eval("#heat tbody tr", (r) => r.map((x) => x.getAttribute("data-name")));
  expect(JSON.stringify(byName) === JSON.stringify([...byName].sort()), `org: sorted by name: ${byName.join(", ")}`);
  await page.click("button[data-sort=failing]");
  const back = await page.$$eval("#heat tbody tr", (r) => r.map((x) => Number(x.getAttribute("data-failing"))));
  expect(back.every((n, i) => i === 0 || back[i - 1] >= n), `org: sorted by failing controls again: ${back.join(", ")}`);
  await page.screenshot({ path: path.join(outDir, "org.png") });
  await finish("org", o);
  await axe("org", file);
  for (const r of rows) {
    const repoPage = path.join(path.dirname(file), r.href);
    expect(fs.existsSync(repoPage), `org: ${r.name} links to ${r.href}, written next to the organisation page`);
    const p = await open(repoPage);
    await common(`org/${r.href}`, p.page, p.seen);
    const failing = await p.page.$$eval("ul.grid a.cell[data-status=failing]", (c) => c.length);
    expect(failing === r.failing, `org/${r.href}: ${failing} failing cells, as the heatmap row says`);
    await finish(`org/${r.href}`, p);
  }
}

const checks = { fixtures: checkFixtures, hostile: checkHostile, history: checkHistory, org: checkOrg };
for (const spec of specs) {
  const [kind, file] = spec.split("=");
  if (!checks[kind] || !file) {
    console.error(`unknown check '${spec}' (kinds: ${Object.keys(checks).join(", ")})`);
    process.exit(2);
  }
  console.log(`${kind}: ${file} (${Math.round(fs.statSync(file).size / 1024)} KiB)`);
  await checks[kind](file);
}
await browser.close();
console.log(failures === 0 ? "html-check: all expectations met" : `html-check: ${failures} expectation(s) failed`);
console.log(`html-check: screenshots and the PDF are in ${outDir}`);
process.exit(failures === 0 ? 0 : 1);
