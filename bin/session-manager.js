#!/usr/bin/env node
'use strict'
require('../lib/session-manager').main()
