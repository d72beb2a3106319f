with

metric_catalogue as (

    select * from {{ ref('metric_catalogue') }}

),

final as (

    select
        cast(metric_id as varchar) as metric_id,
        cast(title as varchar) as title,
        cast(description as varchar) as description,
        cast(domain as varchar) as domain,
        cast(unit as varchar) as unit,
        cast(unit_multiplier as double) as unit_multiplier,
        cast(improvement_direction as varchar) as improvement_direction,
        cast(source_family as varchar) as source_family,
        cast(sources as varchar) as sources,
        cast(numerator_definition as varchar) as numerator_definition,
        cast(denominator_definition as varchar) as denominator_definition,
        cast(reporting_frequency as varchar) as reporting_frequency,
        cast(target as double) as target,  -- noqa: RF04
        cast(red_line as double) as red_line,
        cast(min_denominator as double) as min_denominator,
        cast(funnel_type as varchar) as funnel_type,
        cast(overdispersion_method as varchar) as overdispersion_method,
        cast(version as integer) as version,
        cast(valid_from as date) as valid_from,
        cast(base_metric_id as varchar) as base_metric_id
    from metric_catalogue

)

select * from final
