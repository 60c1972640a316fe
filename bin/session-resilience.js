#!/usr/bin/env node
'use strict'
require('../lib/migrate').main()
