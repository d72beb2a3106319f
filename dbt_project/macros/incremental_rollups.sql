{#
    Incremental roll-ups recompute whole periods: every cell (each organisation, view and quintile)
    of each (metric, period type, period start) a changed month falls in, summed or ranked again from
    the rows of all the months of that period, so medians and means stay exact. Their strategy is
    delete+insert keyed on (metric_id, period_type, period_start). A recomputed period that has no
    rows any more would never reach the delete, so the model adds one marker row per recomputed
    period (org_view empty, never so in a cell), and the post-hook `delete_emptied_periods` removes
    the markers once the delete and insert are done, within the same transaction.
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


{% macro delete_emptied_periods() %}
    {#- Post-hook of an incremental roll-up: remove the period markers. -#}
    {%- if not execute or recomputes_every_month() -%}
        {{ return('') }}
    {%- endif -%}
    {{ return('delete from ' ~ this ~ ' where org_view is null') }}
{% endmacro %}
