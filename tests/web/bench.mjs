// Opens the page's ?bench address in headless Chromium and prints its JSON result
// (see tests/web/bench).
import { chromium } from "playwright-core";

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
try {
  const page = await browser.newPage();
  await page.goto(process.argv[2]);
  await page.waitForFunction(() => (document.getElementById("bench")?.textContent ?? "").length > 0, null, {
    timeout: 120_000,
  });
  console.log(await page.textContent("#bench"));
} finally {
  await browser.close();
}
