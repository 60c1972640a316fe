#!/usr/bin/env node
'use strict'
require('../lib/phase-gate-validator').main()
