"""Jinja2's own renderings of small templates, one construct each, for a differential test.

Usage: jinja_snippets_fixture.py OUTDIR  -> OUTDIR/snippets.json

Each snippet is rendered by the environment transformers builds for chat templates
(transformers.utils.chat_template_utils._compile_jinja_template: ImmutableSandboxedEnvironment with
trim_blocks, lstrip_blocks, loop controls, its tojson, raise_exception, strftime_now, namespace).
The result is the rendered text, or the kind of error: "syntax" (TemplateSyntaxError), "raise"
(the template's raise_exception) or "runtime" (anything else raised while rendering).
"""
import json
import os
import sys

import jinja2
from transformers.utils.chat_template_utils import _compile_jinja_template

CTX = {
    "messages": [
        {"role": "system", "content": "  sys  "},
        {"role": "user", "content": "Hello, World"},
        {"role": "assistant", "content": "<think>\nplan\n</think>\n\nAnswer."},
        {"role": "user", "content": "日本語 and café"},
    ],
    "d": {"b": 2, "a": 1, "c": [1, 2, {"x": "y"}]},
    "s": "  Mixed Case, text.  ",
    "n": 7,
    "f": 2.5,
    "items": [3, 1, 2],
    "words": ["pear", "Apple", "banana", "apple"],
    "people": [{"name": "Ann", "age": 31, "tags": ["a"]}, {"name": "bob", "age": 25},
               {"name": "Cid", "age": 31, "tags": []}],
    "empty": [],
    "nothing": None,
    "t": True,
    "u": "ünïcödé ß",
}

SNIPPETS = [
    # ---- output, literals, printing like Python's str()
    "{{ 'a' }}{{ \"b\" }}{{ 'c' 'd' }}",
    "{{ 1 }} {{ -3 }} {{ 1.0 }} {{ 2.50 }} {{ 1e3 }} {{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }}",
    "{{ true }} {{ false }} {{ none }} {{ True }} {{ None }}",
    "{{ [1, 'a', none, true, 1.5] }} {{ {'k': 'v', 'n': [1]} }} {{ (1,) }} {{ (1, 2) }} {{ () }}",
    "{{ 'it\\'s' }} {{ \"say \\\"hi\\\"\" }} {{ 'tab\\there' }} {{ 'nl\\nx' }} {{ '\\u00e9\\x41' }}",
    "{{ ['it\\'s', \"q\\\"\", 'both\\'\"', 'é\\n'] }}",
    "{{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e-5 }} {{ 123456789.0 * 10 }} {{ 1/3 }} {{ -0.0 }}",
    "{{ undefined_thing }}|{{ d.missing }}|{{ d['missing'] }}|{{ items[10] }}",
    # ---- arithmetic and operators
    "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7 / 2 }} {{ 4 / 2 }}",
    "{{ 5.5 // 2 }} {{ -5.5 % 2 }} {{ 1 + 2.5 }} {{ true + 1 }} {{ 3 * 'ab' }} {{ 'ab' * 0 }} {{ [1] * 3 }}",
    "{{ 'a' ~ 1 ~ none ~ true ~ undefined_thing ~ [1] }}",
    "{{ 1 + 2 * 3 - 4 / 2 }} {{ (1 + 2) * 3 }} {{ -2 ** 2 }} {{ 2 ** 3 ** 2 }}",
    "{{ 'x' + 'y' }} {{ [1, 2] + [3] }}",
    "{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' == 'a' }} {{ [1, 2] == [1, 2] }} {{ {'a': 1} == {'a': 1} }} {{ none == none }} {{ 1 != 2 }}",
    "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'abc' < 'abd' }} {{ 'Z' < 'a' }} {{ [1, 2] < [1, 3] }} {{ 2 >= 2 }} {{ 1 <= 0 }}",
    "{{ 'ell' in 'Hello' }} {{ 2 in items }} {{ 'a' in d }} {{ 'z' not in d }} {{ 5 not in items }} {{ 'x' in undefined_thing }}",
    "{{ 1 and 'x' }} {{ 0 and 'x' }} {{ '' or 'fallback' }} {{ 'first' or 'x' }} {{ not 0 }} {{ not 'a' }} {{ none or [] }}",
    "{{ 'yes' if t else 'no' }} {{ 'yes' if nothing else 'no' }} [{{ 'only' if false }}] {{ 1 if false else 2 if true else 3 }}",
    "{{ not n is defined }} {{ not n == 7 }} {{ - n }} {{ + n }} {{ -f | abs }}",
    # ---- attribute, item, slices
    "{{ d.a }} {{ d['b'] }} {{ d.c[2].x }} {{ d['c'][2]['x'] }} {{ d.c.0 }} {{ messages[-1].role }} {{ messages.0.content }}",
    "{{ items[0] }} {{ items[-1] }} {{ items[::-1] }} {{ items[1:] }} {{ items[:1] }} {{ items[::2] }} {{ items[-2:] }} {{ items[5:] }}",
    "{{ 'hello'[1:4] }} {{ 'hello'[::-1] }} {{ 'hello'[-1] }} {{ u[0] }} {{ u[::-1] }} {{ 'abcdef'[1::2] }} {{ 'abc'[-10:10] }}",
    "{{ messages[1:] | length }} {{ (messages[::-1] | first).role }} {{ messages[:-1] | map(attribute='role') | join(',') }}",
    # ---- whitespace control, trim_blocks, lstrip_blocks
    "a\n  {% if true %}\n  b\n  {% endif %}\nc",
    "a  {%- if true -%}  b  {%- endif -%}  c",
    "a\n{{- ' b ' -}}\nc",
    "x\n    {# a comment #}\ny",
    "x {#- trimmed -#} y",
    "line1\n  {%+ if true %}kept{% endif %}\nline2",
    "{% for i in [1, 2] %}\n  {{ i }}\n{% endfor %}\n",
    "{% if true %}yes{% endif %}\n\n",
    "text\r\nwith\rcarriage\r\n",
    "  {{ 'var' }}  {% if true %}  after  {% endif %}",
    "{% raw %}{{ not rendered }} {% if %}{% endraw %} and {{ 'rendered' }}",
    "{%- raw -%}  raw  {%- endraw -%}|",
    # ---- control flow and scoping
    "{% if n > 5 %}big{% elif n > 2 %}mid{% else %}small{% endif %} {% if n > 50 %}x{% elif n == 7 %}seven{% endif %}",
    "{% for x in items %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.length }}/{{ loop.first }}/{{ loop.last }};{% endfor %}",
    "{% for x in items %}{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }} {% endfor %}",
    "{% for x in items %}{{ loop.cycle('odd', 'even') }} {% endfor %}",
    "{% for x in empty %}never{% else %}empty!{% endfor %}",
    "{% for k in d %}{{ k }},{% endfor %} {% for k, v in d | items %}{{ k }}={{ v }};{% endfor %} {% for k, v in d.items() %}{{ k }}{% endfor %}",
    "{% for c in 'héllo' %}[{{ c }}]{% endfor %}",
    "{% for x in items if x > 1 %}{{ x }}@{{ loop.index }}/{{ loop.length }} {% endfor %}",
    "{% for x in items %}{% if x == 1 %}{% continue %}{% endif %}{% if x == 2 %}{% break %}{% endif %}{{ x }}{% endfor %}",
    "{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }} {% endfor %}{% for (a, b) in [(5, 6)] %}{{ a * b }}{% endfor %}",
    "{% for i in range(3) %}{% for j in range(i) %}{{ i }}{{ j }} {% endfor %}{% endfor %}",
    "{% for m in messages %}{% for x in [1] %}{{ loop.index }}{% endfor %}{{ loop.index }} {% endfor %}",
    "{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = x + 10 %}{{ x }} {% endfor %}{{ x }}",
    "{% for i in [1, 2] %}{% if i == 1 %}{% set y = 'set' %}{% endif %}[{{ y }}]{% endfor %}[{{ y }}]",
    "{% if true %}{% set z = 'leaks' %}{% endif %}{{ z }}",
    "{% set ns = namespace(count=0, last=none) %}{% for m in messages %}{% set ns.count = ns.count + 1 %}{% set ns.last = m.role %}{% endfor %}{{ ns.count }} {{ ns.last }}",
    "{% set ns = namespace() %}{% set ns.a = 5 %}{{ ns.a }} {{ ns.b is defined }}",
    "{% set a, b = 1, 2 %}{{ a }}{{ b }} {% set c = (3, 4) %}{{ c }}",
    "{% set block %}  captured {{ n }}  {% endset %}[{{ block }}]",
    "{% set upper_block | upper %}shout {{ 'it' }}{% endset %}{{ upper_block }}",
    "{% with a = 1, b = n %}{{ a + b }}{% endwith %}[{{ a }}]",
    "{% filter upper %}inside {{ 'filter' }}{% endfilter %}",
    "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', '?') }} {{ greet(name='Cy', punct='.') }}",
    "{% macro m(x) %}{{ x }}-{{ n }}{% endmacro %}{% for i in [1] %}{{ m(i) }}{% endfor %}",
    "{% print 'printed', n %}",
    "{% generation %}inside generation {{ n }}{% endgeneration %}",
    # ---- filters
    "{{ s | trim }}|{{ '  x  ' | trim('x ') }}|{{ 'xxhixx' | trim('x') }}|{{ nothing | trim }}|{{ undefined_thing | trim }}",
    "{{ 'abc' | length }} {{ u | length }} {{ items | length }} {{ d | length }} {{ undefined_thing | length }} {{ items | count }}",
    "{{ 'abc' | upper }} {{ 'ABC' | lower }} {{ u | upper }} {{ 'ΑΣ' | lower }} {{ 'hello wORLD-foo (bar)' | title }} {{ 'hELLO' | capitalize }}",
    "{{ undefined_thing | default('dflt') }} {{ '' | default('dflt') }} {{ '' | default('dflt', true) }} {{ none | d('x', boolean=true) }} {{ n | default(0) }}",
    "{{ items | join }} {{ items | join(', ') }} {{ people | join(' | ', attribute='name') }} {{ undefined_thing | join(',') }}",
    "{{ d | tojson }} {{ messages[0] | tojson }} {{ 'é\"\\n\\t\\u0001' | tojson }} {{ none | tojson }} {{ [1.5, true, 1e20] | tojson }}",
    "{{ d | tojson(indent=2) }}",
    "{{ {'b': 1, 'a': [], 'c': {}} | tojson(indent=4, sort_keys=true) }}",
    "{{ d | tojson(separators=(',', ':')) }} {{ 'é' | tojson(ensure_ascii=true) }} {{ '🎉' | tojson(ensure_ascii=true) }}",
    "{{ d | items | list }} {{ d | list }} {{ 'ab' | list }} {{ d | dictsort }} {{ d | dictsort(reverse=true) | first }}",
    "{{ words | sort }} {{ words | sort(case_sensitive=true) }} {{ words | sort(reverse=true) }} {{ people | sort(attribute='age') | map(attribute='name') | list }}",
    "{{ words | unique | list }} {{ words | unique(case_sensitive=true) | list }} {{ items | max }} {{ items | min }} {{ words | max }} {{ people | min(attribute='age') }}",
    "{{ items | sum }} {{ people | sum(attribute='age') }} {{ [0.5, 1] | sum(start=10) }} {{ items | first }} {{ items | last }} {{ 'xyz' | last }} {{ empty | first }}",
    "{{ items | reverse | list }} {{ 'abc' | reverse }} {{ items | map('string') | join('-') }} {{ ['a', 'b'] | map('upper') | list }}",
    "{{ people | map(attribute='missing', default='?') | list }} {{ people | map(attribute='age') | list }}",
    "{{ people | map(attribute='tags.0') | list }}",
    "{{ people | selectattr('age', 'equalto', 31) | map(attribute='name') | list }} {{ people | rejectattr('age', '==', 31) | map(attribute='name') | list }}",
    "{{ people | selectattr('tags') | map(attribute='name') | list }} {{ people | selectattr('tags', 'undefined') | map(attribute='name') | list }} {{ people | selectattr('tags', 'defined') | list | length }}",
    "{{ messages | selectattr('role', 'eq', 'user') | list | length }} {{ messages | rejectattr('role', 'in', ['user', 'system']) | map(attribute='role') | first }}",
    "{{ items | select('odd') | list }} {{ items | reject('odd') | list }} {{ [0, 1, '', 'a', none] | select | list }} {{ items | select('>', 1) | list }} {{ items | select('divisibleby', 3) | list }}",
    "{{ 'a-b-c' | replace('-', '+') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 'abc' | replace('', '.') }} {{ 42 | string }} {{ none | string }} {{ [1] | string }}",
    "{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(-1) }} {{ 3.9 | int }} {{ ' 12 ' | int }} {{ '0x1A' | int(0, 16) }} {{ true | int }}",
    "{{ '2.5' | float }} {{ 'x' | float }} {{ 3 | float }} {{ '1e3' | float }} {{ 2.675 | round(2) }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 1.21 | round(1, 'ceil') }} {{ 1.29 | round(1, 'floor') }}",
    "{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(width='> ', blank=true) }}",
    "{{ '<a href=\"x\">&\\'</a>' | e }} {{ '<b>' | escape }} {{ '<i>' | safe }}",
    "{{ 'one two  three\\tfour' | wordcount }} {{ d | attr('items') is callable }} {{ d | attr('a') }}",
    "{{ -5 | abs }} {{ -2.5 | abs }} {{ n | abs }}",
    # ---- tests
    "{{ n is defined }} {{ zz is defined }} {{ zz is undefined }} {{ nothing is none }} {{ n is none }} {{ nothing is not none }}",
    "{{ 's' is string }} {{ 1 is string }} {{ d is mapping }} {{ items is mapping }} {{ items is iterable }} {{ 's' is iterable }} {{ 1 is iterable }} {{ zz is iterable }} {{ items is sequence }}",
    "{{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ 's' is number }} {{ 1 is integer }} {{ true is integer }} {{ 1.0 is float }} {{ true is boolean }} {{ 1 is boolean }}",
    "{{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }}",
    "{{ 'a' is eq 'a' }} {{ 1 is equalto 2 }} {{ 1 is ne 2 }} {{ 1 is lt 2 }} {{ 3 is gt 2 }} {{ 2 is ge 2 }} {{ 2 is le 1 }} {{ 1 is in items }} {{ 9 is in items }}",
    "{{ 3 is == 3 }}",
    "{{ 'abc' is lower }} {{ 'aBc' is lower }} {{ 'ABC' is upper }} {{ '123' is upper }} {{ greet is callable }} {{ range is callable }} {{ 'trim' is filter }} {{ 'nope' is filter }} {{ 'odd' is test }}",
    "{{ nothing is sameas none }} {{ true is sameas true }} {{ 1 is sameas true }}",
    # ---- string methods
    "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'xxaxx'.strip('x') }}|{{ '\\n\\nhi\\n'.lstrip('\\n') }}|{{ 'hi\\n\\n'.rstrip('\\n') }}",
    "{{ 'Hello'.startswith('He') }} {{ 'Hello'.startswith(('x', 'H')) }} {{ 'Hello'.endswith('lo') }} {{ 'Hello'.endswith('x') }} {{ ''.startswith('') }}",
    "{{ 'a,b,,c'.split(',') }} {{ '  a  b c '.split() }} {{ 'a b c'.split(' ', 1) }} {{ '  a b  c '.split(none, 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ ' a b c '.rsplit(none, 1) }}",
    "{{ messages[2].content.split('</think>')[-1].lstrip('\\n') }}|{{ messages[2].content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}",
    "{{ 'abc'.upper() }} {{ 'ABC'.lower() }} {{ 'hello world'.title() }} {{ \"they're bill's\".title() }} {{ 'hELLO'.capitalize() }} {{ u.upper() }}",
    "{{ 'aXbXc'.replace('X', '-') }} {{ 'aXbXc'.replace('X', '-', 1) }} {{ 'héllo'.find('l') }} {{ 'hello'.find('z') }} {{ 'hello'.rfind('l') }} {{ 'hello'.count('l') }} {{ 'hello'.index('e') }}",
    "{{ ', '.join(['a', 'b']) }} {{ '-'.join('xyz') }} {{ 'a\\nb\\r\\nc'.splitlines() }} {{ 'a\\nb\\n'.splitlines(true) }} {{ 'prefix-x'.removeprefix('prefix-') }} {{ 'x.txt'.removesuffix('.txt') }}",
    "{{ '123'.isdigit() }} {{ '12a'.isdigit() }} {{ 'abc'.isalpha() }} {{ ' \\t'.isspace() }} {{ ''.isspace() }} {{ 'ab1'.isalnum() }} {{ 'abc'.islower() }} {{ 'ABC'.isupper() }}",
    # ---- dict / list methods
    "{{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 'dflt') }} {{ d.keys() | list }} {{ d.values() | list }} {{ d.items() | list }}",
    "{{ items.index(1) }} {{ items.count(3) }} {{ (1, 2, 2).count(2) }}",
    # ---- globals
    "{{ range(3) | list }} {{ range(1, 4) | list }} {{ range(10, 0, -3) | list }} {{ range(0) | list }}",
    "{% set ns = namespace(a=1, b='x') %}{{ ns.a }}{{ ns.b }} {{ dict(a=1, b=2) }} {{ dict(a=1).a }}",
    "{{ raise_exception('custom failure') }}",
    "{% if messages[0].role != 'user' %}{{ raise_exception('first message must be from the user') }}{% endif %}",
    # ---- errors while rendering
    "{{ undefined_thing + 'x' }}",
    "{{ undefined_thing.attr }}",
    "{{ undefined_thing[0] }}",
    "{{ 'a' + 1 }}",
    "{{ 1 + 'a' }}",
    "{{ 1 / 0 }}",
    "{{ 5 // 0 }}",
    "{{ 1 < 'a' }}",
    "{{ nothing | length }}",
    "{% for x in 5 %}{% endfor %}",
    "{{ 1 in 'abc' }}",
    "{{ items.append(4) }}",
    "{{ range(200000) | length }}",
    "{{ ''.split('') }}",
    "{{ d | items | first | tojson }}",
    "{% set a, b = [1, 2, 3] %}",
    "{% set n.attr = 1 %}",
    "{{ undefined_function() }}",
    # ---- syntax errors
    "{% if x %}no end",
    "{% for x in %}{% endfor %}",
    "{{ 'unterminated }}",
    "{{ 1 + }}",
    "{% endif %}",
    "{% if x %}{% endfor %}",
    "{{ (1, 2 }}",
    "{{ a[1 }}",
    "{# never closed",
    "{% unknowntag %}",
    "{{ }}",
    "{% set %}",
    "{{ 'a' | }}",
    "{% for x in y %}{% else %}{% else %}{% endfor %}",
    "{% macro m(a=1, b) %}{% endmacro %}",
    "{{ x is }}",
    "{% break %}",
    "{{ 1 ]] }}",
    "{% raw %} no endraw",
    "{{ '\\x4' }}",
]


def classify(e):
    if isinstance(e, jinja2.exceptions.TemplateSyntaxError):
        return "syntax"
    if type(e) is jinja2.exceptions.TemplateError:
        return "raise"
    return "runtime"


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    out = []
    for src in SNIPPETS:
        case = {"template": src}
        try:
            tmpl = _compile_jinja_template(src)
        except Exception as e:
            case["error"] = classify(e)
            case["message"] = str(e)
            out.append(case)
            continue
        try:
            case["expected"] = tmpl.render(**CTX)
        except Exception as e:
            case["error"] = classify(e)
            case["message"] = f"{type(e).__name__}: {e}"
        out.append(case)
    with open(os.path.join(outdir, "snippets.json"), "w", encoding="utf-8") as f:
        json.dump({"context": CTX, "cases": out}, f, ensure_ascii=False, indent=1)
    print(f"wrote {len(out)} snippets")


if __name__ == "__main__":
    main()
