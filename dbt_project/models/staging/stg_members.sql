with

source as (

    select * from {{ source('catalog', 'members') }}

),

renamed as (

    select
        member_id,
        age_band,
        gender,
        home_store_id,

    from source

)

select * from renamed
