#!/usr/bin/env node
'use strict'
require('../lib/resilient-wrapper').main()
