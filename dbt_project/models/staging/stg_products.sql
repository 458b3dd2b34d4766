with

source as (

    select * from {{ source('catalog', 'products') }}

),

renamed as (

    select
        product_id,
        name as product_name,
        brand,
        category,
        cast(price_krw as bigint) as price_krw,
        cast(unit_weight_g as integer) as unit_weight_g,
        margin,
        age_restricted as is_age_restricted,
        cast(shelf_life_days as integer) as shelf_life_days,
        supplier_id,
        cast(lead_time_days as integer) as lead_time_days,

    from source

)

select * from renamed
