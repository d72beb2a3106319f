{#
    Incremental roll-ups recompute whole periods: every cell (each organisation, view and quintile)
    of each (metric, period type, period start) a changed month falls in, summed or ranked again from
    the rows of all the months of that period, so medians and means stay exact. Their strategy is
    delete+insert keyed on (metric_id, period_type, period_start). A recomputed period that has no
    rows any more would never reach the delete, so the model adds one marker row per recomputed
    period (org_view empty, never so in a cell), and the post-hook `delete_emptied_periods` removes
    the markers once the delete and insert are done, within the same transaction.

    The models reading a roll-up (int_metric_values_computed, then the marts metric_values and
    metric_values_by_deprivation) recompute the same periods. Before removing its markers, a
    roll-up's post-hook records their periods once for each incremental model reading it, in
    `<model>__periods_pending` beside it (every period after a run that recomputes every month). A
    reader takes its pending periods (`periods_pending`), deletes their rows in a pre-hook (a period
    left with no rows must not keep its old ones; dbt's own delete, joined to every new row of a
    period, would be slow), selects them again, and its post-hook passes them on to its own readers
    and clears its entries: a run stopped before a reader ran leaves them for the next run.
#}

{% macro periods_of_months(months, period_bridge) %}
    {#- The (metric, period type, period start) of every (metric_id, period_start month) in `months`. -#}
    select distinct
        {{ months }}.metric_id,
        {{ period_bridge }}.period_type,
        {{ period_bridge }}.period_start
    from {{ months }}
    inner join {{ period_bridge }}
        on {{ months }}.period_start = {{ period_bridge }}.month_start_date
{% endmacro %}


{% macro join_periods_recomputed(rows, period_bridge) %}
    {#- In an incremental run, keep only the `rows` (placed in periods by `period_bridge`) of the
        periods recomputed (a CTE `periods_recomputed`); nothing in a run that recomputes every month. -#}
    {%- if not recomputes_every_month() %}
    inner join periods_recomputed
        on
            {{ rows }}.metric_id = periods_recomputed.metric_id
            and {{ period_bridge }}.period_type = periods_recomputed.period_type
            and {{ period_bridge }}.period_start = periods_recomputed.period_start
    {%- endif %}
{% endmacro %}


{% macro period_markers(periods, columns) %}
    {#- One marker row per recomputed period, in the model's `columns` order (empty but the key). -#}
    {%- set keys = ['metric_id', 'period_type', 'period_start'] -%}
    select
        {%- for column in columns %}
        {% if column in keys %}{{ periods }}.{{ column }}{% else %}null{% endif %} as {{ column }}
        {{- "," if not loop.last }}
        {%- endfor %}
    from {{ periods }}
{% endmacro %}


{% macro periods_pending_relation(relation) %}
    {#- The table of the periods `relation` recomputed that its readers have not recomputed yet. -#}
    {{ return(relation.incorporate(path={'identifier': relation.identifier ~ '__periods_pending'})) }}
{% endmacro %}


{% macro period_readers() %}
    {#- The incremental models reading the current model, which recompute the periods it did. -#}
    {%- set readers = [] -%}
    {%- for node in graph.nodes.values() | sort(attribute='name') -%}
        {%- if node.resource_type == 'model' and node.config.materialized == 'incremental'
            and model.unique_id in node.depends_on.nodes -%}
            {%- do readers.append(node.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(readers) }}
{% endmacro %}


{% macro period_sources() %}
    {#- The incremental models the current model reads, as (relation, its pending table or none). -#}
    {%- set sources = [] -%}
    {%- for unique_id in model.depends_on.nodes if unique_id.startswith('model.') -%}
        {%- set node = graph.nodes.get(unique_id) -%}
        {%- if node.config.materialized == 'incremental' -%}
            {%- set relation = api.Relation.create(
                database=node.database, schema=node.schema, identifier=node.alias
            ) -%}
            {%- set pending = adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.alias ~ '__periods_pending'
            ) if execute else none -%}
            {%- do sources.append((relation, pending)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(sources) }}
{% endmacro %}


{% macro periods_pending(catalogue=none) %}
    {#- The (metric, period type, period start) the incremental models this model reads recomputed
        and this model has not yet: every period of both where one keeps no record. With the metric
        `catalogue`, the periods of each gap metric whose base metric is among them too. -#}
    {%- set selects = [] -%}
    {%- for relation, pending in period_sources() -%}
        {%- if pending is not none -%}
            {%- do selects.append(
                'select metric_id, period_type, period_start from ' ~ pending
                ~ " where consumer = '" ~ this.identifier ~ "'"
            ) -%}
        {%- else -%}
            {%- do selects.append('select metric_id, period_type, period_start from ' ~ relation) -%}
            {%- do selects.append('select metric_id, period_type, period_start from ' ~ this) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set pending = selects | join('\n    union\n    ') -%}
    {%- if catalogue is none -%}
        {{ return(pending) }}
    {%- endif %}
    {{ return(
        'select metric_id, period_type, period_start from (' ~ pending ~ ') as pending'
        ~ '\n    union\n    select gap.metric_id, pending.period_type, pending.period_start from ('
        ~ pending ~ ') as pending inner join ' ~ catalogue ~ ' as gap'
        ~ " on pending.metric_id = gap.base_metric_id and gap.unit = 'gap'"
    ) }}
{% endmacro %}


{% macro in_periods_recomputed(rows) %}
    {#- In an incremental run, a where clause keeping the `rows` (an alias) of the periods
        recomputed (a CTE `periods_recomputed`); nothing in a run that recomputes every month. -#}
    {%- if not recomputes_every_month() %}
    where exists (
        select 1
        from periods_recomputed
        where
            {{ rows }}.metric_id = periods_recomputed.metric_id
            and {{ rows }}.period_type = periods_recomputed.period_type
            and {{ rows }}.period_start = periods_recomputed.period_start
    )
    {%- endif %}
{% endmacro %}


{% macro delete_periods_pending(catalogue=none) %}
    {#- Pre-hook of a model reading incremental roll-ups: delete every row of the periods it
        recomputes (a period left with no rows must not keep its old ones), every row when an
        incremental run recomputes every month. -#}
    {%- if not execute or this is none or not builds_incrementally() or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- if changed_months() is none -%}
        {{ return('delete from ' ~ this) }}
    {%- endif -%}
    {{ return(
        'delete from ' ~ this ~ ' as recomputed where exists (select 1 from ('
        ~ periods_pending(catalogue) ~ ') as pending where recomputed.metric_id = pending.metric_id'
        ~ ' and recomputed.period_type = pending.period_type'
        ~ ' and recomputed.period_start = pending.period_start)'
    ) }}
{% endmacro %}


{% macro record_periods_recomputed(periods) %}
    {#- Statements recording the periods `periods` (a select) for each model reading this one. -#}
    {%- set readers = period_readers() if builds_incrementally() else [] -%}
    {%- if not readers -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set pending = periods_pending_relation(this) -%}
    {#- dbt's relation cache, read by the readers' `period_sources` later in this run, does not see a
        table created by a hook: without this, a reader built in the same run as its first pending
        table would never clear its entries, and the next run would recompute every period. -#}
    {%- do adapter.cache_added(pending.incorporate(type='table')) -%}
    {{ return([
        'create table if not exists ' ~ pending
        ~ ' (consumer string, metric_id string, period_type string, period_start date)',
        'insert into ' ~ pending ~ ' select distinct readers.consumer, recomputed.metric_id,'
        ~ ' recomputed.period_type, recomputed.period_start from (' ~ periods ~ ') as recomputed'
        ~ " cross join (values ('" ~ readers | join("'), ('") ~ "')) as readers (consumer)",
    ]) }}
{% endmacro %}


{% macro clear_periods_pending() %}
    {#- Statements clearing this model's entries from the pending periods of the models it reads. -#}
    {%- set statements = [] -%}
    {%- for relation, pending in (period_sources() if builds_incrementally() else []) if pending is not none -%}
        {%- do statements.append('delete from ' ~ pending ~ " where consumer = '" ~ this.identifier ~ "'") -%}
    {%- endfor -%}
    {{ return(statements) }}
{% endmacro %}


{% macro delete_emptied_periods() %}
    {#- Post-hook of an incremental roll-up: record the periods recomputed (its markers, or every
        period) for the models reading it, then remove the period markers. -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set every = recomputes_every_month() -%}
    {%- set periods = 'select metric_id, period_type, period_start from ' ~ this
        ~ ('' if every else ' where org_view is null') -%}
    {%- set statements = record_periods_recomputed(periods) -%}
    {%- if not every -%}
        {%- do statements.append('delete from ' ~ this ~ ' where org_view is null') -%}
    {%- endif -%}
    {{ return(statements | join(';\n')) }}
{% endmacro %}


{% macro recompute_periods_pending(catalogue=none) %}
    {#- Post-hook of a model reading incremental roll-ups: pass the periods it recomputed on to the
        models reading it, and clear its entries from the pending periods it took them from. -#}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set periods = 'select metric_id, period_type, period_start from ' ~ this
        if recomputes_every_month() else periods_pending(catalogue) -%}
    {{ return((record_periods_recomputed(periods) + clear_periods_pending()) | join(';\n')) }}
{% endmacro %}
