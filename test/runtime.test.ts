import { describe, expect, it } from 'vitest'

describe('runtime', () => {
  it('runs on Node.js 22 or newer (the node devDependency puts it first on the PATH of npm scripts)', () => {
    const major = Number(process.versions.node.split('.')[0])
    expect(major).toBeGreaterThanOrEqual(22)
  })
})
