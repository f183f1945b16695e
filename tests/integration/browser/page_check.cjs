// Drives Debian's Chromium (headless, through playwright-core) over the
// exporter's web page and prints what a user would see, as JSON, for
// test_web_page.py to check:
//   node page_check.cjs URL CLUSTER GROUP FILTER SCREENSHOT
// It waits for GROUP's row, reads the rows in order, types FILTER, expands
// GROUP's partitions by clicking its row, waits for one refresh, and saves
// a screenshot. Every request the page makes is recorded, to show it loads
// nothing from elsewhere.
"use strict";
const { chromium } = require(process.env.KLAG_PLAYWRIGHT_CORE);

const [url, cluster, group, filterText, screenshot] = process.argv.slice(2);
// Flags for a closed network: no background traffic, no sandbox as root.
const FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage"];

async function main() {
  const browser = await chromium.launch({ executablePath: process.env.KLAG_CHROMIUM || "/usr/bin/chromium",
                                          args: FLAGS, timeout: 60000 });
  const out = { requests: [], page_errors: [], console_errors: [] };
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    page.on("request", r => out.requests.push(r.url()));
    page.on("pageerror", e => out.page_errors.push(String(e)));
    page.on("console", m => { if (m.type() === "error") out.console_errors.push(m.text()); });
    await page.goto(url, { waitUntil: "load" });

    const row = page.locator(`tr.group[data-cluster="${cluster}"][data-group="${group}"]`);
    await row.waitFor({ timeout: 30000 });
    out.rows = await page.$$eval("tr.group", trs => trs.map(tr => ({
      cluster: tr.dataset.cluster, group: tr.dataset.group,
      lag: tr.querySelector("td.lag").textContent,
      status: tr.children[4].textContent,
      flags: tr.children[7].textContent,
    })));
    out.clusters = await page.$$eval(".cluster", cs => cs.map(c => c.textContent));

    await page.fill("#filter", filterText);
    out.filtered = await page.$$eval("tr.group", trs => trs.map(tr => tr.dataset.group));
    out.count_text = await page.textContent("#count");
    await page.fill("#filter", "");

    await row.click();
    const parts = page.locator("tr.detail tr.partition");
    await parts.first().waitFor({ timeout: 10000 });
    const readPartitions = () => page.$$eval("tr.detail tr.partition", trs => trs.map(tr => ({
      topic: tr.dataset.topic, partition: Number(tr.dataset.partition),
      lag: tr.querySelector("td.lag").textContent,
    })));
    out.partitions = await readPartitions();
    // The page refreshes every 5 s: the group stays expanded across it.
    const before = await page.textContent("#updated");
    await page.waitForFunction(b => document.querySelector("#updated").textContent !== b, before, { timeout: 15000 });
    out.partitions_after_refresh = await readPartitions();
    await page.screenshot({ path: screenshot, fullPage: true });
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch(e => { console.error(e); process.exit(1); });
