{{ config(materialized='table') }}

{#
    The dbt models on the way from each registered source table to metric_values, read from the
    project's own dependency graph when the model runs, so the lineage cannot drift from the code.
#}
{%- set edges = [] -%}
{%- if execute -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
        {%- for parent in node.depends_on.nodes -%}
            {%- do edges.append((parent, node.unique_id, node.name)) -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif -%}

with recursive

source_tables as (

    select * from {{ ref('source_tables') }}

),

model_edges as (

    -- one inline table of the graph's edges: a single relation for the engine to plan, however
    -- many models there are
    select
        parent_id,
        child_id,
        child_name
    from (
        values
        {% for parent_id, child_id, child_name in edges %}
            ('{{ parent_id }}', '{{ child_id }}', '{{ child_name }}'){% if not loop.last %},{% endif %}
        {% else %}
            (cast(null as string), cast(null as string), cast(null as string))
        {% endfor %}
    ) as edges (parent_id, child_id, child_name)
    {% if not edges %}
        where false
    {% endif %}

),

downstream as (

    select
        source_tables.source,
        source_tables.table_name,
        model_edges.child_id,
        model_edges.child_name,
        1 as step
    from source_tables
    inner join model_edges
        on
            model_edges.parent_id
            = 'source.{{ project_name }}.' || source_tables.source || '.' || source_tables.table_name

    union all

    select
        downstream.source,
        downstream.table_name,
        model_edges.child_id,
        model_edges.child_name,
        downstream.step + 1 as step
    from downstream
    inner join model_edges
        on downstream.child_id = model_edges.parent_id
    where downstream.step < 20

),

upstream_of_metric_values as (

    select
        parent_id as node_id,
        1 as step
    from model_edges
    where child_id = 'model.{{ project_name }}.metric_values'

    union all

    select
        model_edges.parent_id as node_id,
        upstream_of_metric_values.step + 1 as step
    from upstream_of_metric_values
    inner join model_edges
        on upstream_of_metric_values.node_id = model_edges.child_id
    where upstream_of_metric_values.step < 20

),

on_path as (

    select
        downstream.source,
        downstream.table_name,
        downstream.child_name as model_name,
        min(downstream.step) as step
    from downstream
    where
        downstream.child_id in (select node_id from upstream_of_metric_values)
        or downstream.child_id = 'model.{{ project_name }}.metric_values'
    group by
        downstream.source,
        downstream.table_name,
        downstream.child_name

),

final as (

    select
        source,
        table_name,
        model_name,
        step
    from on_path

)

select * from final
