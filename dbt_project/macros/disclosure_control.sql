{#
    Statistical disclosure control of the published metric models. The rules are data: `rules` is
    the alias of the one row of the disclosure_control seed (thresholds, rounding base, marker,
    exempt level); which figures of a metric count people or events is the metric catalogue's
    is_numerator_count and is_denominator_count. published_metric_values and
    published_metric_values_by_deprivation both render publish_metric_values(), so the two apply the
    same rules the same way.
#}

{#
    A count under control: exact at the exempt level, 0 kept, null (suppressed) from suppress_from
    to suppress_to, the rest rounded to rounding_base. A null figure stays null.
#}
{% macro controlled_count(figure, is_exempt, rules) -%}
    case
        when {{ is_exempt }} then {{ figure }}
        when {{ figure }} < {{ rules }}.suppress_from then {{ figure }}
        when {{ figure }} <= {{ rules }}.suppress_to then null
        else round({{ figure }} / {{ rules }}.rounding_base) * {{ rules }}.rounding_base
    end
{%- endmacro %}

{#
    The published rows of a metric_values mart (`metric_values`: a relation with the mart's columns;
    `cell_keys`: the columns beyond metric, organisation and period that identify a cell, such as
    imd_quintile). In order:
    1. primary suppression: each count figure controlled (controlled_count); a row is suppressed
       when a count figure is suppressed, or when it is a median or mean of observation_suppress_from
       to observation_suppress_to observations;
    2. complementary suppression: in every set of siblings (the children of one parent one level up:
       trusts (or local authorities) of an ICB, ICBs of a region, regions of England; per metric,
       view, period and cell key) holding exactly one suppressed row, the sibling with the smallest figures is suppressed
       too, so that no suppressed figure equals the parent's total less the published siblings;
    3. values and intervals recomputed from the published figures (macros/metric_statistics.sql), a
       median or mean keeping its own; a suppressed row publishes no figure, value or interval.
    Gap metrics are not rows of a metric_values mart here: published_metric_values adds them from
    the published quintile rows (its gap_values).
#}
{% macro publish_metric_values(metric_values, cell_keys=[]) -%}
{%- set group_keys = ['metric_id', 'org_view', 'period_type', 'period_start'] + cell_keys -%}
rules as (

    select * from {{ ref('disclosure_control') }}

),

catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

hierarchy as (

    select * from {{ ref('int_organisations_hierarchy') }}

),

follow_ups as (

    select * from {{ ref('int_metric_follow_ups_completed') }}

),

normal as (

    select {{ ci_z() }} as z

),

cells as (

    select
        metric_values.*,
        catalogue.unit_multiplier,
        catalogue.min_denominator,
        catalogue.is_numerator_count,
        catalogue.is_denominator_count,
        follow_ups.latest_complete_month,
        metric_values.org_level = rules.exempt_org_level as is_exempt,
        case metric_values.org_level
            when 'trust' then hierarchy.icb_code
            when 'local_authority' then hierarchy.icb_code
            when 'icb' then hierarchy.region_code
            when 'region' then hierarchy.england_code
        end as parent_code
    from {{ metric_values }} as metric_values
    cross join rules
    inner join catalogue
        on metric_values.metric_id = catalogue.metric_id
    left join follow_ups
        on metric_values.metric_id = follow_ups.metric_id
    left join hierarchy
        on metric_values.org_code = hierarchy.org_code
    where metric_values.unit != 'gap'

),

cells_controlled as (

    select
        cells.*,
        case
            when cells.is_numerator_count
                then {{ controlled_count('cells.numerator', 'cells.is_exempt', 'rules') }}
            else cells.numerator
        end as numerator_controlled,
        case
            when cells.is_denominator_count
                then {{ controlled_count('cells.denominator', 'cells.is_exempt', 'rules') }}
            else cells.denominator
        end as denominator_controlled,
        not cells.is_exempt
        and cells.unit in ('median', 'mean')
        and cells.denominator between rules.observation_suppress_from and rules.observation_suppress_to
            as is_too_few_observations
    from cells
    cross join rules

),

cells_screened as (

    select
        *,
        numerator is not null and numerator_controlled is null
        or denominator is not null and denominator_controlled is null
        or is_too_few_observations as is_primary_suppressed
    from cells_controlled

),

{#- each row's sibling set (its parent's children, per metric, view, period and cell key) in one pass:
    the rows suppressed in it, and the row's rank as a complement (the smallest figures first among
    the rows not suppressed). One scan of the rows, no join back to them, so the rows are never held
    twice: a national history of quintile rows is millions of wide rows. #}
cells_ranked as (

    select
        *,
        sum(case when is_primary_suppressed then 1 else 0 end) over (
            partition by
                {% for key in group_keys %}{{ key }},
                {% endfor -%}
                org_level,
                parent_code
        ) as siblings_suppressed,
        row_number() over (
            partition by
                {% for key in group_keys %}{{ key }},
                {% endfor -%}
                org_level,
                parent_code
            order by
                coalesce(not is_primary_suppressed, false) desc,
                coalesce(numerator_controlled, 0),
                coalesce(denominator_controlled, 0),
                org_code
        ) as complement_rank
    from cells_screened

),

cells_suppressed as (

    select
        *,
        is_primary_suppressed
        or coalesce(
            not is_exempt
            and parent_code is not null
            and not is_primary_suppressed
            and siblings_suppressed = 1
            and complement_rank = 1,
            false
        ) as is_suppressed
    from cells_ranked

),

{#- the published figures, named as the statistics macros read them: a suppressed row publishes none #}
cells_published as (

    select
        {% for key in group_keys %}{{ key }},
        {% endfor -%}
        org_level,
        org_code,
        org_name,
        period_end,
        financial_year,
        unit,
        unit_multiplier,
        min_denominator,
        months_reported,
        latest_complete_month,
        is_numerator_count,
        is_denominator_count,
        is_suppressed,
        value as unpublished_value,
        ci_lower as unpublished_ci_lower,
        ci_upper as unpublished_ci_upper,
        standard_error as unpublished_standard_error,
        median_interpolated as unpublished_median_interpolated,
        cast(case when not is_suppressed then numerator_controlled end as double) as numerator,
        cast(case when not is_suppressed then denominator_controlled end as double) as denominator,
        cast(null as double) as observation_count,
        cast(null as double) as observation_sum,
        cast(null as double) as observation_sum_of_squares,
        cast(null as double) as median,
        cast(null as double) as median_ci_lower,
        cast(null as double) as median_ci_upper
    from cells_suppressed

),

{#- a median or mean keeps its own value, interval and standard error (its observations are not published) #}
cell_values as (

    select
        {% for key in group_keys %}cells_published.{{ key }},
        {% endfor -%}
        cells_published.org_level,
        cells_published.org_code,
        cells_published.org_name,
        cells_published.period_end,
        cells_published.financial_year,
        cells_published.unit,
        cells_published.months_reported,
        cells_published.latest_complete_month,
        cells_published.is_numerator_count,
        cells_published.is_denominator_count,
        cells_published.numerator,
        cells_published.denominator,
        case
            when cells_published.is_suppressed then null
            when cells_published.unit in ('median', 'mean') then cells_published.unpublished_value
            else {{ metric_value('cells_published') }}
        end as value,
        case
            when cells_published.is_suppressed then null
            when cells_published.unit in ('median', 'mean') then cells_published.unpublished_ci_lower
            else {{ metric_interval('cells_published', 'lower', 'normal.z') }}
        end as ci_lower,
        case
            when cells_published.is_suppressed then null
            when cells_published.unit in ('median', 'mean') then cells_published.unpublished_ci_upper
            else {{ metric_interval('cells_published', 'upper', 'normal.z') }}
        end as ci_upper,
        cells_published.is_suppressed,
        coalesce(cells_published.denominator >= cells_published.min_denominator, false) as is_published,
        case
            when not cells_published.is_suppressed then cells_published.unpublished_standard_error
        end as standard_error,
        case
            when not cells_published.is_suppressed then cells_published.unpublished_median_interpolated
        end as median_interpolated
    from cells_published
    cross join normal

),

{#- the latest period of each metric and period type ending in the metric's latest complete month or
    before: an aggregate of the mart's keys, not a window over every published row #}
latest_complete_periods as (

    select
        metric_values.metric_id,
        metric_values.period_type,
        max(metric_values.period_start) as period_start
    from {{ metric_values }} as metric_values
    inner join follow_ups
        on metric_values.metric_id = follow_ups.metric_id
    where metric_values.period_end <= last_day(follow_ups.latest_complete_month)
    group by metric_values.metric_id, metric_values.period_type

)
{%- endmacro %}


{#- The join marking each row of `cells` in its metric's latest complete period (published_metric_columns). #}
{% macro join_latest_complete_periods(cells) -%}
    left join latest_complete_periods
        on
            {{ cells }}.metric_id = latest_complete_periods.metric_id
            and {{ cells }}.period_type = latest_complete_periods.period_type
            and {{ cells }}.period_start = latest_complete_periods.period_start
{%- endmacro %}

{#
    The contract columns of published metric rows, from `cells` as cell_values leaves them (figures
    as doubles, null where not published); `extra_keys` follow period_start (imd_quintile). The
    select must cross join `rules` (the disclosure_control seed) for the suppression marker, and
    join_latest_complete_periods(cells): a period is the latest complete one of its type when it is
    the latest whose end falls in the metric's latest complete month or before.
#}
{% macro published_metric_columns(cells, extra_keys=[]) -%}
        cast({{ cells }}.metric_id as string) as metric_id,
        cast({{ cells }}.org_view as string) as org_view,
        cast({{ cells }}.org_level as string) as org_level,
        cast({{ cells }}.org_code as string) as org_code,
        cast({{ cells }}.org_name as string) as org_name,
        cast({{ cells }}.period_type as string) as period_type,
        cast({{ cells }}.period_start as date) as period_start,
        {% for key in extra_keys %}{{ cells }}.{{ key }},
        {% endfor -%}
        cast({{ cells }}.period_end as date) as period_end,
        cast({{ cells }}.financial_year as string) as financial_year,
        cast({{ cells }}.unit as string) as unit,
        cast(case when {{ cells }}.is_numerator_count then {{ cells }}.numerator end as bigint) as numerator,
        cast(case when {{ cells }}.is_denominator_count then {{ cells }}.denominator end as bigint) as denominator,
        cast(case when not {{ cells }}.is_numerator_count then {{ cells }}.numerator end as double) as numerator_amount,
        cast(
            case when not {{ cells }}.is_denominator_count then {{ cells }}.denominator end as double
        ) as denominator_amount,
        cast({{ cells }}.value as double) as value,
        cast({{ cells }}.ci_lower as double) as ci_lower,
        cast({{ cells }}.ci_upper as double) as ci_upper,
        cast({{ cells }}.is_suppressed as boolean) as is_suppressed,
        cast(case
            when {{ cells }}.is_suppressed then rules.suppression_marker
            when {{ cells }}.unit = 'count' then cast(cast({{ cells }}.value as bigint) as string)
            -- to 4 decimals in decimal arithmetic (half up) from the value to 9: a double's own
            -- rounding differs between engines at a half (DuckDB rounds 1.04625 down, Spark up)
            else cast(
                cast(cast(cast({{ cells }}.value as decimal(38, 9)) as decimal(38, 4)) as double) as string
            )
        end as string) as value_display,
        cast({{ cells }}.is_published as boolean) as is_published,
        cast({{ cells }}.months_reported as integer) as months_reported,
        cast({{ cells }}.standard_error as double) as standard_error,
        cast({{ cells }}.median_interpolated as double) as median_interpolated,
        latest_complete_periods.period_start is not null as is_latest_complete_period
{%- endmacro %}
