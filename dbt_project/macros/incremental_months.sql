{#
    The months an incremental build recomputes. Orchestration passes `changed_months` (a list of
    'YYYY-MM-01' strings: the months whose landed data changed since the last successful build);
    without it every month counts as changed, and `--full-refresh` rebuilds every model from scratch.

    A model's window says which months of input one month of its output reads: `before` months
    earlier and `after` months later (none: without bound). An output month is recomputed when a
    changed month lies in its window; for example the stability index of a month reads the staff
    records of that month and of twelve months earlier ({'before': 12, 'after': 0}), so a changed
    month is recomputed together with the twelve months after it.

    Incremental models declare their window once, in their config, as meta `recompute_window` (or
    `recompute_windows`: one window per value of `recompute_key`, e.g. per metric), and use the
    strategy delete+insert: the pre-hook `delete_recomputed_months` removes every row of the months
    the run recomputes (a month left with no rows must not keep its old ones), the model selects them
    again with `months_recomputed`, and reads only the input months `months_read` says they need.

    A full refresh of a long history is built in windows of months (orchestration: `rebuild_windows`
    in orchestration/lib/changes.py), so no model holds all of it at once: the first window is a full
    refresh, each later one an incremental run with its months as `changed_months`, and every window
    but the last passes the var `rebuild_through` ('YYYY-MM-01', its last month), which keeps the
    output months of every incremental model to that month (`months_rebuilt`; the months after it
    are built by the windows to come) and their input to the months those read. Models of one dbt
    step run every window before the next step's first, so a roll-up bounds what it reads from
    another step's models the same way.
#}

{% macro changed_months() %}
    {#- The changed months as sorted 'YYYY-MM-01' strings, or none when every month counts as changed. -#}
    {%- set months = var('changed_months', none) -%}
    {%- if months is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if months is string -%}
        {%- set months = months.split(',') -%}
    {%- endif -%}
    {%- set starts = [] -%}
    {%- for month in months -%}
        {%- set text = (month | string).strip() -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}(-01)?$', text) -%}
            {{ exceptions.raise_compiler_error("changed_months holds " ~ text ~ ": expected month starts as 'YYYY-MM-01'") }}
        {%- endif -%}
        {%- do starts.append(text[:7] ~ '-01') -%}
    {%- endfor -%}
    {{ return(starts | unique | sort) }}
{% endmacro %}


{% macro recomputes_every_month() %}
    {#- True when this run rebuilds every month: not an incremental run (a unit test has no relation
        of its own), or no changed months given. -#}
    {{ return(this is none or not builds_incrementally() or not is_incremental() or changed_months() is none) }}
{% endmacro %}


{% macro shift_month(month, months) %}
    {#- 'YYYY-MM-01' moved by a number of months. -#}
    {%- set index = (month[:4] | int) * 12 + (month[5:7] | int) - 1 + months -%}
    {{ return('%04d-%02d-01' | format(index // 12, index % 12 + 1)) }}
{% endmacro %}


{% macro month_ranges(earlier, later) %}
    {#- [first, last] month ranges (none: unbounded) covering every changed month moved `earlier`
        months back to `later` months on, overlapping ranges merged. -#}
    {%- set ranges = [] -%}
    {%- for month in changed_months() -%}
        {%- set first = none if earlier is none else shift_month(month, -earlier) -%}
        {%- set last = none if later is none else shift_month(month, later) -%}
        {%- set previous = ranges[-1] if ranges else none -%}
        {%- if previous is not none and (previous[1] is none or first is none or first <= shift_month(previous[1], 1)) -%}
            {%- do ranges.pop() -%}
            {%- do ranges.append([previous[0], none if (previous[1] is none or last is none) else [previous[1], last] | max]) -%}
        {%- else -%}
            {%- do ranges.append([first, last]) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(ranges) }}
{% endmacro %}


{% macro month_ranges_sql(column, ranges) %}
    {#- A predicate: `column` (a month start) lies in one of the ranges. -#}
    {%- set clauses = [] -%}
    {%- for first, last in ranges -%}
        {%- set bounds = [] -%}
        {%- if first is not none -%}{%- do bounds.append(column ~ " >= date '" ~ first ~ "'") -%}{%- endif -%}
        {%- if last is not none -%}{%- do bounds.append(column ~ " <= date '" ~ last ~ "'") -%}{%- endif -%}
        {%- do clauses.append('(' ~ (bounds | join(' and ') if bounds else 'true') ~ ')') -%}
    {%- endfor -%}
    {{ return('(' ~ (clauses | join(' or ') if clauses else 'false') ~ ')') }}
{% endmacro %}


{% macro months_rebuilt(column, later=0) %}
    {#- A predicate on a month column: every month, or with the var `rebuild_through` (the last month
        of a window of a long history's full refresh) the months to it and `later` more (none: without
        bound). A unit test (no relation of its own) reads all its rows. -#}
    {%- set through = var('rebuild_through', none) -%}
    {%- if through is none or later is none or this is none -%}
        {{ return('true') }}
    {%- endif -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-01$', through | string) -%}
        {{ exceptions.raise_compiler_error("rebuild_through is " ~ through ~ ": expected a month start 'YYYY-MM-01'") }}
    {%- endif -%}
    {{ return(column ~ " <= date '" ~ shift_month(through | string, later) ~ "'") }}
{% endmacro %}


{% macro recompute_window(key=none, node=none) %}
    {#- The window a model declares (meta recompute_window, or recompute_windows[key]). -#}
    {%- set meta = (node.config.meta if node is not none else config.get('meta', {})) or {} -%}
    {%- if key is not none -%}
        {%- set window = meta.get('recompute_windows', {}).get(key) -%}
    {%- else -%}
        {%- set window = meta.get('recompute_window') -%}
    {%- endif -%}
    {%- if window is none -%}
        {{ exceptions.raise_compiler_error("no recompute window declared" ~ (" for " ~ key if key is not none else "")) }}
    {%- endif -%}
    {{ return(window) }}
{% endmacro %}


{% macro months_recomputed(column, key=none, window=none) %}
    {#- A predicate on an output month column: the months this run recomputes, those whose window
        holds a changed month (every month when the run recomputes every month). -#}
    {%- if recomputes_every_month() -%}
        {{ return(months_rebuilt(column)) }}
    {%- endif -%}
    {%- set window = window if window is not none else recompute_window(key) -%}
    {{ return(
        month_ranges_sql(column, month_ranges(window['after'], window['before']))
        ~ ' and ' ~ months_rebuilt(column)
    ) }}
{% endmacro %}


{% macro months_read(column, key=none, window=none) %}
    {#- A predicate on an input month column: the input months the recomputed output months read. -#}
    {%- if recomputes_every_month() -%}
        {%- if not execute or this is none or var('rebuild_through', none) is none -%}
            {{ return('true') }}
        {%- endif -%}
        {%- set window = window if window is not none else recompute_window(key) -%}
        {{ return(months_rebuilt(column, later=window['after'])) }}
    {%- endif -%}
    {%- set window = window if window is not none else recompute_window(key) -%}
    {%- set before, after = window['before'], window['after'] -%}
    {%- set reach = none if (before is none or after is none) else before + after -%}
    {{ return(
        month_ranges_sql(column, month_ranges(reach, reach)) ~ ' and ' ~ months_rebuilt(column, later=after)
    ) }}
{% endmacro %}


{% macro delete_recomputed_months(column='period_start') %}
    {#- Pre-hook of an incremental model: delete every row of the months this run recomputes. -#}
    {%- if not execute or recomputes_every_month() or config.get('materialized') != 'incremental' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set meta = config.get('meta', {}) or {} -%}
    {%- if 'recompute_windows' in meta -%}
        {%- set clauses = [] -%}
        {%- for key in meta['recompute_windows'] | sort -%}
            {%- do clauses.append(
                '(' ~ meta['recompute_key'] ~ " = '" ~ key ~ "' and " ~ months_recomputed(column, key=key) ~ ')'
            ) -%}
        {%- endfor -%}
        {%- set predicate = clauses | join(' or ') -%}
    {%- else -%}
        {%- set predicate = months_recomputed(column) -%}
    {%- endif -%}
    {{ return('delete from ' ~ this ~ ' where ' ~ predicate) }}
{% endmacro %}


{% macro recompute_window_of(model_name) %}
    {#- The windows another incremental model declares (meta recompute_windows), for a model reading it. -#}
    {%- set node = graph.nodes.get('model.' ~ project_name ~ '.' ~ model_name) -%}
    {%- if node is none -%}
        {{ exceptions.raise_compiler_error("no model " ~ model_name) }}
    {%- endif -%}
    {{ return(node.config.meta.get('recompute_windows', {})) }}
{% endmacro %}
