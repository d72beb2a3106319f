{#
    Which strategy version reporting follows: the one named by the dbt var strategy_version (from
    NQS_STRATEGY_VERSION) when set, otherwise the one whose status is active in the seed.
#}
{%- set override = var('strategy_version', env_var('NQS_STRATEGY_VERSION', '')) -%}

with

strategy_versions as (

    select * from {{ ref('strategy_versions') }}

),

final as (

    select
        strategy_version,
        title,
        status,
        valid_from,
        description,
        {% if override %}
            strategy_version = '{{ override }}' as is_active
        {% else %}
            status = 'active' as is_active
        {% endif %}
    from strategy_versions

)

select * from final
