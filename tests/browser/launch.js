// Debian's Chromium (CHROMIUM), headless, in the profile PROFILE, as both
// browser.js and lighthouse.js start it: no first-run, sync or background
// traffic to blur what the page itself asks for.
module.exports = (puppeteer) => puppeteer.launch({
  executablePath: process.env.CHROMIUM,
  headless: true,
  userDataDir: process.env.PROFILE,
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update",
    "--disable-dev-shm-usage"],
});
