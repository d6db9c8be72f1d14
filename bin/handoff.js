#!/usr/bin/env node
// `npx handoff`: the compiled standalone server, with the settings of `npm start` (environment, then .env).
import '../dist/server.js'
