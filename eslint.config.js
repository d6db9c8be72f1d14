import globals from 'globals'
import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['src/generated/**', 'dist/**', 'coverage/**', 'examples/spa/dist/**', '.tap/**', 'scratch/**', 'bench/.build/**'] }),
  { files: ['public/**/*.js'], languageOptions: { globals: globals.browser } }
]
