// The web page in headless Chromium (see tests/web/smoke). Arguments: the page's address,
// a folder for screenshots, the default preset's title, a preset file to open by link and
// its title. Prints one line per check and "smoke: N passed, N failed"; exits non-zero on
// any failure.
import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const [base, shots, defaultTitle, linkFile, linkTitle] = process.argv.slice(2);
fs.mkdirSync(shots, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    // WebGL on the CPU (SwiftShader), as on a machine without a GPU.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});

let passed = 0;
let failed = 0;
function check(ok, what) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (ok) passed++;
  else failed++;
}

// Each call gets a fresh context (fresh storage: no last session) unless given one.
async function open(url, shared) {
  const context = shared ?? (await browser.newContext({ viewport: { width: 1280, height: 800 } }));
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && /panicked|RuntimeError/.test(m.text())) {
      problems.push(`console: ${m.text()}`);
    }
  });
  const started = Date.now();
  await page.goto(url);
  // The app has started when it hides the loading line.
  await page.waitForFunction(() => document.getElementById("status")?.hidden === true, null, {
    timeout: 60_000,
  });
  return { page, context, started, problems };
}

const sleepUntil = (t) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

// Pixel statistics of screenshots, computed in a page of their own.
const lab = await (await browser.newContext()).newPage();
async function stats(a, b) {
  return lab.evaluate(
    async ([a, b]) => {
      const load = async (b64) => {
        const img = await createImageBitmap(
          await (await fetch(`data:image/png;base64,${b64}`)).blob(),
        );
        const c = new OffscreenCanvas(img.width, img.height);
        const g = c.getContext("2d");
        g.drawImage(img, 0, 0);
        return g.getImageData(0, 0, img.width, img.height).data;
      };
      const pa = await load(a);
      const colours = new Set();
      for (let i = 0; i < pa.length; i += 4) {
        colours.add(((pa[i] >> 3) << 10) | ((pa[i + 1] >> 3) << 5) | (pa[i + 2] >> 3));
      }
      let changed = 0;
      if (b) {
        const pb = await load(b);
        for (let i = 0; i < pa.length; i += 4) {
          const d =
            Math.abs(pa[i] - pb[i]) + Math.abs(pa[i + 1] - pb[i + 1]) + Math.abs(pa[i + 2] - pb[i + 2]);
          if (d > 24) changed++;
        }
      }
      return { colours: colours.size, changed: changed / (pa.length / 4) };
    },
    [a.toString("base64"), b ? b.toString("base64") : null],
  );
}

try {
  // 1. The default session: drawn, and moving.
  const app = await open(base);
  await sleepUntil(app.started + 5_000);
  const at5 = await app.page.screenshot({ path: path.join(shots, "page-5s.png") });
  await sleepUntil(app.started + 15_000);
  const at15 = await app.page.screenshot({ path: path.join(shots, "page-15s.png") });
  const s5 = await stats(at5);
  check(s5.colours > 200, `the canvas is drawn at 5 s (${s5.colours} colours)`);
  const d = await stats(at5, at15);
  check(d.changed > 0.005, `the page changed between 5 s and 15 s (${(100 * d.changed).toFixed(1)}% of pixels)`);
  const title = await app.page.title();
  check(title === `${defaultTitle} - annealscope`, `the tab is titled by the default session: "${title}"`);
  check(app.problems.length === 0, `no errors: ${app.problems.join("; ") || "none"}`);
  await app.context.close();

  // 2. A link's fragment opens its session; the browser keeps it as the last session;
  //    a damaged link opens the default (not the last session).
  const text = fs.readFileSync(linkFile);
  const fragment = "p=" + zlib.deflateSync(text, { level: 9 }).toString("base64url");
  const linked = await open(`${base}#${fragment}`);
  await sleepUntil(linked.started + 3_000);
  const linkShot = await linked.page.screenshot({ path: path.join(shots, "page-link.png") });
  const linkedTitle = await linked.page.title();
  check(linkedTitle === `${linkTitle} - annealscope`, `a link opens its session: "${linkedTitle}"`);
  const dl = await stats(linkShot, at5);
  check(dl.changed > 0.05, `and shows it (${(100 * dl.changed).toFixed(1)}% of pixels differ from the default)`);
  check(linked.problems.length === 0, `no errors: ${linked.problems.join("; ") || "none"}`);
  await linked.page.close({ runBeforeUnload: true });

  const again = await open(base, linked.context);
  const againTitle = await again.page.title();
  check(againTitle === `${linkTitle} - annealscope`, `the browser's storage reopens the last session: "${againTitle}"`);
  await again.page.close({ runBeforeUnload: true });

  const damaged = await open(`${base}#${fragment.slice(0, fragment.length / 2)}`, linked.context);
  await sleepUntil(damaged.started + 1_000);
  await damaged.page.screenshot({ path: path.join(shots, "page-damaged-link.png") });
  const damagedTitle = await damaged.page.title();
  check(damagedTitle === `${defaultTitle} - annealscope`, `a damaged link opens the default: "${damagedTitle}"`);
  await linked.context.close();

  // 3. ?bench measures proposals per second in the page.
  const bench = await open(`${base}?bench`);
  const json = await bench.page.textContent("#bench");
  const results = JSON.parse(json || "[]");
  const rate = (p) => results.find((r) => r.hidden === 4 && r.samples === 100 && r.proposal === p)?.proposals_per_s ?? 0;
  check(rate("all") > 0 && rate("one") > 0, `?bench in the page at (hidden 4, samples 100): ${Math.round(rate("all"))} proposals/s moving all parameters, ${Math.round(rate("one"))} moving one`);
  fs.writeFileSync(path.join(shots, "bench.json"), JSON.stringify(results, null, 1) + "\n");
  await bench.context.close();
} catch (e) {
  check(false, `the page could be driven: ${e.message}`);
} finally {
  await browser.close();
}
console.log(`smoke: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
