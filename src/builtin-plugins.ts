/**
 * Registers every built-in plugin. Importing this module is cheap: each entry
 * imports only its schema; the implementation is imported when used.
 * Plugins add themselves here as they land.
 */
import './drivers/register.js';
import './transport-plugins.js';
import './provisioners/register.js';
import './verifiers/register.js';
