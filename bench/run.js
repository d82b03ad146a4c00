#!/usr/bin/env node
// `npm run bench`: runs every bench/*.bench.js in sequence with this Node (the project's, via npm),
// each in its own process so one benchmark's warm caches cannot flatter the next.
// Usage: node bench/run.js [name-substring …]   (e.g. `node bench/run.js destination`)
'use strict'
const { spawnSync } = require('node:child_process')
const { readdirSync, existsSync } = require('node:fs')
const path = require('node:path')

const root = path.resolve(__dirname, '..')
if (!existsSync(path.join(root, 'dist', 'index.js'))) {
  console.error('dist/ is missing: run "npm run build" first (npm run bench does it for you).')
  process.exit(1)
}
const filters = process.argv.slice(2)
const files = readdirSync(__dirname)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort()
if (files.length === 0) {
  console.error(`No benchmark matches ${filters.join(', ')}.`)
  process.exit(1)
}
console.log(`Node ${process.version} · ${files.length} benchmark(s): ${files.join(', ')}\n`)
let failed = 0
for (const file of files) {
  console.log(`=== ${file} ===`)
  const started = Date.now()
  const r = spawnSync(process.execPath, [path.join(__dirname, file)], { cwd: root, stdio: 'inherit' })
  const secs = ((Date.now() - started) / 1000).toFixed(1)
  if (r.status !== 0) {
    failed++
    console.log(`--- ${file} FAILED (exit ${r.status ?? r.signal}) after ${secs} s ---\n`)
  } else console.log(`--- ${file} done in ${secs} s ---\n`)
}
process.exit(failed === 0 ? 0 : 1)
