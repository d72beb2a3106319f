{#
    metric_values as BI users may see it: every count below national level under disclosure control
    (seeds/disclosure_control.csv), values and intervals recomputed from the controlled figures,
    complementary suppression up the organisation hierarchy (macros/disclosure_control.sql). A gap
    metric is recomputed from the published quintile 1 and 5 rows of its base metric, so it reveals
    nothing they do not: suppressed when either is.
#}
with

{{ publish_metric_values(ref('metric_values')) }},

gap_rows as (

    select * from {{ ref('metric_values') }}
    where unit = 'gap'

),

quintiles as (

    select * from {{ ref('published_metric_values_by_deprivation') }}

),

gap_cells as (

    select
        gap_rows.metric_id,
        gap_rows.org_view,
        gap_rows.org_level,
        gap_rows.org_code,
        gap_rows.org_name,
        gap_rows.period_type,
        gap_rows.period_start,
        gap_rows.period_end,
        gap_rows.financial_year,
        gap_rows.unit,
        gap_rows.months_reported,
        catalogue.unit_multiplier,
        catalogue.min_denominator,
        follow_ups.latest_complete_month,
        cast(coalesce(most_deprived.numerator, 0) as double) as most_deprived_numerator,
        cast(coalesce(most_deprived.denominator, 0) as double) as most_deprived_denominator,
        cast(coalesce(least_deprived.numerator, 0) as double) as least_deprived_numerator,
        cast(coalesce(least_deprived.denominator, 0) as double) as least_deprived_denominator,
        coalesce(most_deprived.is_suppressed, false)
        or coalesce(least_deprived.is_suppressed, false) as is_suppressed
    from gap_rows
    inner join catalogue
        on gap_rows.metric_id = catalogue.metric_id
    left join follow_ups
        on gap_rows.metric_id = follow_ups.metric_id
    left join quintiles as most_deprived
        on
            catalogue.base_metric_id = most_deprived.metric_id
            and gap_rows.org_view = most_deprived.org_view
            and gap_rows.org_code = most_deprived.org_code
            and gap_rows.period_type = most_deprived.period_type
            and gap_rows.period_start = most_deprived.period_start
            and most_deprived.imd_quintile = 1
    left join quintiles as least_deprived
        on
            catalogue.base_metric_id = least_deprived.metric_id
            and gap_rows.org_view = least_deprived.org_view
            and gap_rows.org_code = least_deprived.org_code
            and gap_rows.period_type = least_deprived.period_type
            and gap_rows.period_start = least_deprived.period_start
            and least_deprived.imd_quintile = 5

),

gap_values as (

    select
        gap_cells.metric_id,
        gap_cells.org_view,
        gap_cells.period_type,
        gap_cells.period_start,
        gap_cells.org_level,
        gap_cells.org_code,
        gap_cells.org_name,
        gap_cells.period_end,
        gap_cells.financial_year,
        gap_cells.unit,
        gap_cells.months_reported,
        gap_cells.latest_complete_month,
        gap_cells.is_suppressed,
        false as is_numerator_count,
        false as is_denominator_count,
        cast(null as double) as numerator,
        cast(null as double) as denominator,
        case when not gap_cells.is_suppressed then {{ gap_value('gap_cells') }} end as value,
        case
            when not gap_cells.is_suppressed then {{ gap_interval('gap_cells', 'lower', 'normal.z') }}
        end as ci_lower,
        case
            when not gap_cells.is_suppressed then {{ gap_interval('gap_cells', 'upper', 'normal.z') }}
        end as ci_upper,
        not gap_cells.is_suppressed
        and least(gap_cells.most_deprived_denominator, gap_cells.least_deprived_denominator)
        >= gap_cells.min_denominator as is_published,
        cast(null as double) as standard_error,
        cast(null as double) as median_interpolated
    from gap_cells
    cross join normal

),

{#- the columns published_metric_columns reads, from both (a union by position, as every engine has) #}
{%- set value_columns = [
    'metric_id', 'org_view', 'period_type', 'period_start', 'org_level', 'org_code', 'org_name',
    'period_end', 'financial_year', 'unit', 'months_reported', 'latest_complete_month',
    'is_numerator_count', 'is_denominator_count', 'numerator', 'denominator', 'value', 'ci_lower',
    'ci_upper', 'is_suppressed', 'is_published', 'standard_error', 'median_interpolated',
] %}

all_values as (

    select
        {{ value_columns | join(',\n        ') }}
    from cell_values
    union all
    select
        {{ value_columns | join(',\n        ') }}
    from gap_values

),

final as (

    select
        {{ published_metric_columns('all_values') }}
    from all_values
    cross join rules
    {{ join_latest_complete_periods('all_values') }}

)

select * from final
