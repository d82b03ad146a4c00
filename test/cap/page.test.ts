/**
 * The sample page in headless Chromium against the full demo (the same path `npm start` runs):
 * it must show the top orders per currency and the connectivity status, without any network
 * access beyond the app itself (no CDN). Skips only when Chromium is not installed.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
if (!hasChromium)
  console.warn(`page.test: ${CHROMIUM} not found — install Debian's chromium (apt-get install -y chromium)`)

const { startDemo } = require('../../sample-app/scripts/demo.js')
const { chromium } = require('playwright-core')

// test-results/ is git-ignored; CI may keep it as an artifact.
const SHOT = path.resolve(__dirname, '..', '..', 'test-results', 'sample-page.png')
let demo: { url: string; stop(): Promise<void> } | undefined
let profile: string

beforeAll(async () => {
  if (!hasChromium) return
  demo = await startDemo({ port: 0 })
  profile = mkdtempSync(path.join(tmpdir(), 'cap-connectivity-chromium-'))
}, 90_000)

afterAll(async () => {
  await demo?.stop()
  if (profile) rmSync(profile, { recursive: true, force: true })
})

describe.skipIf(!hasChromium)('sample page', () => {
  it('shows top orders per currency and the connectivity status', async () => {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      httpCredentials: { username: 'alice', password: '' },
      viewport: { width: 1280, height: 760 },
    })
    try {
      const page = await context.newPage()
      const foreign: string[] = []
      page.on('request', (r: { url(): string }) => {
        if (!r.url().startsWith(demo!.url)) foreign.push(r.url())
      })
      await page.goto(`${demo!.url}/`)
      await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 })
      await page.screenshot({ path: SHOT, fullPage: true })

      for (const cur of ['AED', 'USD', 'EUR']) {
        const rows = await page.$$eval(`#cur-${cur} tbody tr`, (trs: { textContent: string | null }[]) =>
          trs.map((tr) => tr.textContent ?? ''),
        )
        expect(rows, cur).toHaveLength(5)
        expect(await page.textContent(`#cur-${cur} thead`)).toContain(cur)
        const currencies = await page.$$eval(
          `#cur-${cur} tbody tr`,
          (trs: { getAttribute(n: string): string | null }[]) =>
            trs.map((tr) => tr.getAttribute('data-currency')),
        )
        expect(currencies).toEqual([cur, cur, cur, cur, cur])
      }
      expect(await page.textContent('#st-agent')).toBe('connected')
      expect(await page.textContent('#st-location')).toBe('dc1')
      expect(await page.textContent('#st-route')).toContain('via tunnel')
      expect(Number((await page.textContent('#st-requests'))?.split(' ')[0])).toBeGreaterThanOrEqual(3)
      expect(await page.textContent('#st-user')).toBe('alice')
      expect(foreign).toEqual([])
    } finally {
      await context.close()
    }
  }, 60_000)
})
