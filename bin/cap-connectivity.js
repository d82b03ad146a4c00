#!/usr/bin/env node
'use strict'
// Thin launcher: the CLI lives in dist/cli (built by `npm install` / `npm run build`).
require('../dist/cli/main.js')
  .main(process.argv.slice(2))
  .then((code) => {
    if (typeof code === 'number') process.exitCode = code
  })
