"""A pure-Python JSON-ish parser: CPU-bound, no shared state, allocation-heavy.

ftbench scale examples/json_parser.py:parse --python 3.13t --python 3.13t+gil --check-results
"""

DOCUMENT = (
    '{"items": ['
    + ", ".join(
        '{"id": %d, "name": "item-%d", "tags": ["a", "b"], "price": %d.25, "ok": true}' % (i, i, i)
        for i in range(40)
    )
    + '], "count": 40, "next": null}'
)


def _value(text, i):
    c = text[i]
    if c == "{":
        result, i = {}, i + 1
        while text[i] != "}":
            key, i = _value(text, _skip(text, i))
            i = _skip(text, _skip(text, i) + 1)
            result[key], i = _value(text, i)
            i = _skip(text, i)
            if text[i] == ",":
                i = _skip(text, i + 1)
        return result, i + 1
    if c == "[":
        result, i = [], _skip(text, i + 1)
        while text[i] != "]":
            item, i = _value(text, i)
            result.append(item)
            i = _skip(text, i)
            if text[i] == ",":
                i = _skip(text, i + 1)
        return result, i + 1
    if c == '"':
        end = text.index('"', i + 1)
        return text[i + 1 : end], end + 1
    for word, value in (("true", True), ("false", False), ("null", None)):
        if text.startswith(word, i):
            return value, i + len(word)
    end = i
    while end < len(text) and text[end] in "-0123456789.eE":
        end += 1
    number = text[i:end]
    return (float(number) if "." in number else int(number)), end


def _skip(text, i):
    while text[i] in " \n\t":
        i += 1
    return i


def parse():
    document, _ = _value(DOCUMENT, 0)
    return document["count"], len(document["items"]), document["items"][-1]["price"]
