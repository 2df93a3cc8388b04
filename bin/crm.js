#!/usr/bin/env node
// Tiny launcher into the compiled CLI (npm ci runs `prepare`, which compiles src/ to dist/).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
