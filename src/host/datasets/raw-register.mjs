// Registers raw-loader.mjs (`node --import tsx --import <this file>`, or import it after tsx's
// register()); hooks registered later run first, so `?raw` is handled before tsx resolves it.
import { register } from 'node:module'

register('./raw-loader.mjs', import.meta.url)
