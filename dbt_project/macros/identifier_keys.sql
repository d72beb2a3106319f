{#
    A whole-number key for a hashed identifier (the 64 hexadecimal digits of its HMAC-SHA256), for
    joining large tables on it: its first 15 digits as a 60-bit integer. Joining ten years of staff
    records on the 64-character text spilled more than 45 GiB to disk; on this key, 12.5 GiB. Two people
    share a key only if their hashes agree in 60 bits: for a few million people, a chance of about one
    in a million over the whole history, and then only where both are in one trust in matching months.
#}
{% macro identifier_key(column) %}
    {{ return(adapter.dispatch('identifier_key', 'nqs')(column)) }}
{% endmacro %}

{% macro default__identifier_key(column) -%}
    cast(('0x' || left({{ column }}, 15)) as bigint)
{%- endmacro %}

{% macro spark__identifier_key(column) -%}
    cast(conv(left({{ column }}, 15), 16, 10) as bigint)
{%- endmacro %}
