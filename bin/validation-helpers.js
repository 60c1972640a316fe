#!/usr/bin/env node
'use strict'
require('../lib/validation-helpers').main()
