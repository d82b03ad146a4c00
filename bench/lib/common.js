// Scaffolding shared by the benchmarks: command-line numbers, medians, require() timing in a fresh
// process, a child process that reports ready over IPC, and the two table layouts the benches print.
'use strict'
const { execFileSync, fork, spawn } = require('node:child_process')

/** `--name N` from the command line as a number, else `def`. */
function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : def
}

/** The middle value (upper middle for an even count). */
function median(xs) {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
}

/**
 * Median wall time in ms of `require(target)` in fresh processes started in `cwd`; `prelude` is
 * code run first and not timed (e.g. loading a host framework the target plugs into).
 */
function requireTime(target, { cwd, runs = 5, prelude = '' }) {
  const code = `${prelude};const t=process.hrtime.bigint();require(${JSON.stringify(target)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`
  const xs = []
  for (let i = 0; i < runs; i++)
    xs.push(Number(execFileSync(process.execPath, ['-e', code], { cwd, encoding: 'utf8' })))
  return median(xs)
}

/**
 * Starts a helper process (`code` run with -e, or `file` forked with `args`) and resolves with the
 * child and the first IPC message it sends (its ports): servers run apart so the measured process
 * holds only the client side.
 */
function startChild(spec) {
  const child =
    spec.code !== undefined
      ? spawn(process.execPath, ['-e', spec.code], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      : fork(spec.file, spec.args ?? [], { stdio: 'inherit' })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('message', (message) => resolve({ child, message }))
  })
}

/** Prints a markdown table; `align` holds one '---' or '---:' per column (default left). */
function printMarkdownTable(header, rows, align = header.map(() => '---')) {
  console.log(`| ${header.join(' | ')} |`)
  console.log(`|${align.join('|')}|`)
  for (const r of rows) console.log(`| ${r.join(' | ')} |`)
}

/** Prints rows (the first is the header) as left-aligned text columns two spaces apart. */
function printColumns(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '))
}

module.exports = { arg, median, requireTime, startChild, printMarkdownTable, printColumns }
