{#- Age band x gender x category per store, k-anonymous: a cell behind fewer than k distinct
    shoppers is left out, and its purchase figures are blanked when fewer than k of them bought. #}
with

cells as (

    select * from {{ ref('int_demographic_cells') }}

),

shown as (

    select * from cells
    where cell_shoppers >= {{ var('k_anonymity') }}

),

final as (

    select
        store_id,
        age_band,
        gender,
        category,
        zone_id,
        cell_shoppers,
        visitors,
        visitor_share,
        buyers >= {{ var('k_anonymity') }} as purchases_shown,
        case when buyers >= {{ var('k_anonymity') }} then buyers end as buyers,
        case when buyers >= {{ var('k_anonymity') }} then revenue_krw end as revenue_krw,
        case when buyers >= {{ var('k_anonymity') }} then revenue_share end as revenue_share,
        case when buyers >= {{ var('k_anonymity') }} then penetration end as penetration,
        case when buyers >= {{ var('k_anonymity') }} then penetration_index end as penetration_index,

    from shown

)

select * from final
