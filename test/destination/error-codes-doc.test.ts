import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(__dirname, '..', '..')

describe('README error code table', () => {
  it('lists every code of the ConnectivityErrorCode union, with a meaning', () => {
    const errors = readFileSync(join(root, 'lib', 'errors.ts'), 'utf8')
    const union = /export type ConnectivityErrorCode =([\s\S]*?)\n\n/.exec(errors)?.[1] ?? ''
    const codes = [...union.matchAll(/\|\s*'([A-Z0-9_]+)'/g)].map((m) => m[1])
    expect(codes.length).toBeGreaterThan(10)
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    const section = readme.slice(readme.indexOf('## Error codes'))
    const rows = new Map([...section.matchAll(/^\| `([A-Z0-9_]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]]))
    const missing = codes.filter((c) => !rows.get(c as string)?.trim())
    expect(missing, 'add a row to the README "Error codes" table for each').toEqual([])
  })
})
