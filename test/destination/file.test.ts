import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { configureDestinations, getDestination } from '../../lib/destination/resolve'
import {
  getConfiguredDocument,
  loadDestinationsFile,
  readDestinationsDocument,
} from '../../lib/destination/sources/file'
import { saveEnv } from '../fixtures/env'

let dir: string
const env = saveEnv('destinations', 'VCAP_SERVICES', 'CAP_CONNECTIVITY_DESTINATIONS')
const write = (name: string, content: unknown) => {
  const p = join(dir, name)
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  return p
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dest-file-'))
  env.clear()
  configureDestinations({ root: dir })
})
afterEach(() => {
  env.restore()
  configureDestinations({})
  rmSync(dir, { recursive: true, force: true })
})

describe('destinations file', () => {
  it('reads an array and an object with groups (kept raw)', async () => {
    const a = write('a.json', [{ Name: 'A', Type: 'HTTP', URL: 'https://a.org' }])
    expect((await loadDestinationsFile(a)).map((d) => d.name)).toEqual(['A'])
    const groups = [{ name: 'G', members: ['A', 'B'], policy: { anything: true } }]
    const b = write('b.json', {
      destinations: [
        { Name: 'A', URL: 'https://a.org' },
        { Name: 'B', Type: 'TCP', Address: 'b:1' },
      ],
      groups,
    })
    const doc = await readDestinationsDocument(b)
    expect(doc.path).toBe(b)
    expect(doc.destinations.map((d) => [d.name, d.type, d.source, d.origin])).toEqual([
      ['A', 'HTTP', 'file', `${b}, entry #1`],
      ['B', 'TCP', 'file', `${b}, entry #2`],
    ])
    expect(doc.groups).toEqual(groups)
  })

  it('ignores unknown top-level keys unless strict', async () => {
    const p = write('u.json', { destinations: [], tunnels: {} })
    expect((await readDestinationsDocument(p)).destinations).toEqual([])
    configureDestinations({ root: dir, strict: true })
    await expect(readDestinationsDocument(p)).rejects.toMatchObject({
      code: 'DESTINATIONS_FILE_INVALID',
      message: expect.stringContaining('"tunnels"'),
    })
  })

  it('reports invalid JSON with file, line and column, without quoting the content', async () => {
    const p = write('bad.json', '[\n  { "Name": "A",\n    "Password": "SENTINEL-PW" "URL": "https://a" }\n]')
    const err = (await readDestinationsDocument(p).catch((e: unknown) => e)) as Error & {
      details: Record<string, unknown>
    }
    expect(err).toMatchObject({
      code: 'DESTINATIONS_FILE_INVALID',
      details: { file: p, line: 3, column: 31 },
    })
    expect(err.message).toContain(`${p}: invalid JSON at line 3, column 31`)
    expect(err.message).not.toContain('SENTINEL')
    const truncated = write('trunc.json', '[\n  { "Name": "A" ')
    await expect(readDestinationsDocument(truncated)).rejects.toThrow(
      /line 2, column 17 \(Expected ',' or '}' after property value\)/,
    )
  })

  it('names both entries of a duplicate', async () => {
    const p = write('dup.json', [
      { Name: 'A', URL: 'https://a' },
      { Name: 'B', URL: 'https://b' },
      { Name: 'A', URL: 'https://c' },
    ])
    await expect(readDestinationsDocument(p)).rejects.toThrow(/entries #1 and #3 are both named "A"/)
  })

  it('rejects a bad layout and a bad entry (naming the file and entry)', async () => {
    await expect(readDestinationsDocument(write('s.json', '"x"'))).rejects.toMatchObject({
      code: 'DESTINATIONS_FILE_INVALID',
    })
    await expect(readDestinationsDocument(write('g.json', { destinations: [], groups: {} }))).rejects.toThrow(
      /"groups" must be an array/,
    )
    const p = write('e.json', [
      { Name: 'A', URL: 'https://a' },
      { Name: 'B', Type: 'TCP', Address: 'nope' },
    ])
    await expect(readDestinationsDocument(p)).rejects.toMatchObject({
      code: 'DESTINATION_INVALID',
      message: expect.stringContaining(`${p}, entry #2`),
    })
    await expect(readDestinationsDocument(join(dir, 'missing.json'))).rejects.toThrow(
      /cannot be read \(ENOENT\)/,
    )
  })

  it('uses <root>/destinations.json, and CAP_CONNECTIVITY_DESTINATIONS over it', async () => {
    write('destinations.json', [{ Name: 'ROOT', URL: 'https://root' }])
    expect((await getDestination('ROOT')).origin).toContain(join(dir, 'destinations.json'))
    const other = write('other.json', { destinations: [{ Name: 'OTHER', URL: 'https://other' }] })
    process.env.CAP_CONNECTIVITY_DESTINATIONS = other
    expect((await getDestination('OTHER')).source).toBe('file')
    await expect(getDestination('ROOT')).rejects.toMatchObject({ code: 'DESTINATION_NOT_FOUND' })
    expect((await getConfiguredDocument())?.path).toBe(other)
    process.env.CAP_CONNECTIVITY_DESTINATIONS = join(dir, 'gone.json')
    await expect(getDestination('OTHER')).rejects.toThrow(/gone\.json: does not exist/)
  })

  it('an invalid configured file fails getDestination for every name (never skipped)', async () => {
    write('destinations.json', '{ "destinations": [ }')
    process.env.destinations = JSON.stringify([{ name: 'ENV', url: 'https://env' }])
    for (let i = 0; i < 2; i++) {
      await expect(getDestination('ENV')).rejects.toMatchObject({
        code: 'DESTINATIONS_FILE_INVALID',
        details: { line: 1, column: 22 },
      })
    }
    await expect(getConfiguredDocument()).rejects.toMatchObject({ code: 'DESTINATIONS_FILE_INVALID' })
  })

  it('re-reads the file when it changes, without a restart', async () => {
    const p = write('destinations.json', [{ Name: 'A', URL: 'https://v1.example.org' }])
    const v1 = await getDestination('A')
    expect(v1.type === 'HTTP' && v1.url).toBe('https://v1.example.org')
    expect(await getDestination('A')).toBe(v1) // unchanged file: same parsed object
    write('destinations.json', [
      { Name: 'A', URL: 'https://v2.example.org' },
      { Name: 'B', URL: 'https://b' },
    ])
    const future = new Date(Date.now() + 5000)
    utimesSync(p, future, future) // guarantee a new mtime even on coarse clocks
    const v2 = await getDestination('A')
    expect(v2.type === 'HTTP' && v2.url).toBe('https://v2.example.org')
    expect((await getDestination('B')).name).toBe('B')
    write('destinations.json', '[')
    await expect(getDestination('A')).rejects.toMatchObject({ code: 'DESTINATIONS_FILE_INVALID' })
    rmSync(p)
    await expect(getDestination('A')).rejects.toMatchObject({ code: 'DESTINATION_NOT_FOUND' })
  })

  it('configureDestinations validates its options', () => {
    expect(() => configureDestinations({ cacheSize: -1 })).toThrow(RangeError)
    expect(() => configureDestinations({ cacheMarginSeconds: Number.NaN })).toThrow(/cacheMarginSeconds/)
    expect(() => configureDestinations({ file: 3 as unknown as string })).toThrow(TypeError)
    expect(() => configureDestinations({ strict: 'yes' as unknown as boolean })).toThrow(/strict/)
  })
})
