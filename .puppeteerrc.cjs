// Use the system Chromium when the machine has one (Debian's /usr/lib/chromium/chromium):
// puppeteer's own browser download cannot work on closed networks. Elsewhere puppeteer
// keeps its normal path and downloads its Chrome on install.
const fs = require('node:fs');
const systemChromium = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => fs.existsSync(p));
module.exports = {
  skipDownload: Boolean(systemChromium) || process.env.PUPPETEER_SKIP_DOWNLOAD === '1',
};
