import { describe, expect, it } from 'vitest';
import { decodeEntities, htmlToText } from './html-to-text.ts';

describe('htmlToText', () => {
  it('keeps visible text in block paragraphs under h1-h6 headings', () => {
    const html = `<!doctype html>
<html><head><title>Pump &amp; Valve Guide</title>
<style>body { color: red } h1 > p { }</style>
<script>if (a < b && c > d) { document.write("<p>not text</p>") }</script>
</head><body>
<nav><a href="/">Home</a> <a href="/about">About</a></nav>
<h1 class="title">Pump <em>manual</em></h1>
<p>Read this <b>first</b>.<br>It matters.</p>
<!-- <p>commented out</p> -->
<div data-note='a > b'>Oil the bearings<img src="x.png" alt="">monthly.</div>
<h2>Torque</h2>
<ul><li>Tighten to 40&nbsp;Nm</li><li>Check &#8220;seals&#x201D;</li></ul>
<table><tr><td>Part</td><td>Code</td></tr><tr><td>Valve</td><td>4417</td></tr></table>
<noscript>Enable JavaScript</noscript>
</body></html>`;
    const { title, paragraphs } = htmlToText(html);
    expect(title).toBe('Pump & Valve Guide');
    expect(paragraphs.map((paragraph) => [paragraph.heading, paragraph.text])).toEqual([
      ['Pump manual', 'Read this first. It matters.'],
      ['Pump manual', 'Oil the bearings monthly.'],
      ['Torque', 'Tighten to 40 Nm'],
      ['Torque', 'Check “seals”'],
      ['Torque', 'Part | Code'],
      ['Torque', 'Valve | 4417'],
    ]);
    expect(JSON.stringify(paragraphs)).not.toMatch(/not text|color|Home|commented|JavaScript/);
  });

  it('takes the first h1 as the title when there is no <title>, and survives unclosed scripts', () => {
    const { title, paragraphs } = htmlToText('<body><h1>Report</h1><p>Body text</p><script>var x = "<p>');
    expect(title).toBe('Report');
    expect(paragraphs).toEqual([{ text: 'Body text', page: null, heading: 'Report' }]);
  });

  it('gives the headings as text when there is nothing else', () => {
    expect(
      htmlToText('<h1>Agenda</h1><h2>Budget</h2>').paragraphs.map((paragraph) => paragraph.text),
    ).toEqual(['Agenda', 'Budget']);
  });

  it('treats a custom element named like a hidden one as visible', () => {
    expect(htmlToText('<nav-menu>Visible</nav-menu>').paragraphs.map((paragraph) => paragraph.text)).toEqual([
      'Visible',
    ]);
  });
});

describe('decodeEntities', () => {
  it('decodes named and numeric references and leaves unknown ones', () => {
    expect(decodeEntities('&lt;a&gt; &amp;amp; &#65;&#x42; &euro;5 &unknown; &#xD800; &#0;')).toBe(
      '<a> &amp; AB €5 &unknown; \uFFFD \uFFFD',
    );
  });
});
